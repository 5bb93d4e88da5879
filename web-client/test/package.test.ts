// The package as an app installs it: `npm run build` output loaded by plain
// Node through the package's exports map (not through vitest's resolver).
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const packageDir = fileURLToPath(new URL("..", import.meta.url));

describe("the built package", () => {
  it("builds and loads in plain Node with its types", { timeout: 60_000 }, async () => {
    await run("npm", ["run", "--silent", "build"], { cwd: packageDir });
    const script = `
      import * as pkg from "@example/tasks-client";
      const names = Object.keys(pkg).sort();
      console.log(JSON.stringify(names));
    `;
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], {
      cwd: packageDir,
    });
    const names = JSON.parse(stdout) as string[];
    expect(names).toEqual(
      expect.arrayContaining([
        "TaskService",
        "CreateTaskRequestSchema",
        "TaskSchema",
        "Priority",
        "TaskOrder",
        "createTasksClient",
        "createTasksTransport",
        "bearerToken",
        "errorReason",
        "fieldViolations",
        "validate",
        "ErrorInfoSchema",
        "watchTasks",
        "LocalTasks",
        "backoffDelay",
      ]),
    );
    const { stdout: dts } = await run("grep", ["-c", "createTasksClient", "dist/index.d.ts"], {
      cwd: packageDir,
    });
    expect(Number(dts.trim())).toBeGreaterThan(0);
  });
});
