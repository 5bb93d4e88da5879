// Global setup: builds the real server from this repository and runs it for
// the whole test run (harness/, shared with the app's browser tests). Tests
// get its URL and JWT secret through inject().
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { buildCommands } from "../harness/build.js";
import { startTasksd } from "../harness/tasksd.js";
import { makeWorkDir } from "../harness/workdir.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** The running server, e.g. http://127.0.0.1:40123. */
    baseUrl: string;
    /** The server's AUTH_JWT_SECRET, for minting HS256 tokens. */
    jwtSecret: string;
    /** The built tasksd binary. */
    tasksd: string;
    /** The environment tasksd runs with (for `tasksd token`). */
    tasksdEnv: Record<string, string>;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Binaries, the SQLite database and logs; removed when the run ends.
  const dir = await makeWorkDir("tasks-web-client-");
  try {
    const { tasksd } = await buildCommands(dir, ["tasksd"], join(dir, "go-build.log"));
    const jwtSecret = randomBytes(32).toString("hex");
    const server = await startTasksd(tasksd, {
      settings: {
        DATA_DIR: dir, // the embedded SQLite database
        AUTH_JWT_SECRET: jwtSecret,
        CORS_ALLOWED_ORIGINS: "http://localhost:3000",
      },
      dir,
      logFile: join(dir, "tasksd.log"),
      onLine: process.env.TASKSD_LOG ? (line) => console.error(`[tasksd] ${line}`) : undefined,
    });
    project.provide("baseUrl", server.url);
    project.provide("jwtSecret", jwtSecret);
    project.provide("tasksd", tasksd);
    project.provide("tasksdEnv", server.env);
    return async () => {
      await server.child.stop();
      await rm(dir, { recursive: true, force: true });
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
