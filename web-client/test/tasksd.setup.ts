// Global setup: builds the real server from this repository and runs it for
// the whole test run. Tests get its URL and JWT secret through inject().
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { TestProject } from "vitest/node";

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

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
const startTimeoutMs = 30_000;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), "tasks-web-client-"));
  const tasksd = join(dir, "tasksd");
  try {
    await promisify(execFile)("go", ["build", "-o", tasksd, "./cmd/tasksd"], {
      cwd: repoRoot,
      maxBuffer: 16 << 20,
    });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    const stderr = (err as { stderr?: string }).stderr ?? "";
    throw new Error(`go build ./cmd/tasksd failed:\n${stderr || String(err)}`);
  }

  // Only what the server needs: nothing from the developer's shell
  // (DATABASE_URL, AUTH_JWKS_URL, PORT, ...) leaks into it.
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    LISTEN_ADDR: "127.0.0.1:0",
    DATA_DIR: dir,
    AUTH_JWT_SECRET: randomBytes(32).toString("hex"),
    CORS_ALLOWED_ORIGINS: "http://localhost:3000",
    LOG_LEVEL: "warn",
  };
  const server = spawn(tasksd, ["serve"], { env, stdio: ["ignore", "pipe", "pipe"] });
  const stderr: string[] = [];
  createInterface({ input: server.stderr! }).on("line", (line) => {
    stderr.push(line);
    if (process.env.TASKSD_LOG) console.error(`[tasksd] ${line}`);
  });

  const stop = async () => {
    await terminate(server);
    await rm(dir, { recursive: true, force: true });
  };
  let baseUrl: string;
  try {
    baseUrl = await listeningUrl(server);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\ntasksd stderr:\n${stderr.join("\n")}`);
  }

  project.provide("baseUrl", baseUrl);
  project.provide("jwtSecret", env.AUTH_JWT_SECRET!);
  project.provide("tasksd", tasksd);
  project.provide("tasksdEnv", env);
  return stop;
}

// listeningUrl waits for the line tasksd prints once it accepts connections.
function listeningUrl(server: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`tasksd did not report listening within ${startTimeoutMs} ms`)),
      startTimeoutMs,
    );
    const lines = createInterface({ input: server.stdout! });
    lines.on("line", (line) => {
      const match = /^tasksd listening on (https?:\/\/\S+)$/.exec(line.trim());
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    server.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`tasksd exited before listening (code ${code}, signal ${signal})`));
    });
  });
}

// terminate sends SIGTERM (graceful shutdown) and SIGKILL if that takes too long.
async function terminate(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => server.once("exit", () => resolve()));
  server.kill("SIGTERM");
  const killer = setTimeout(() => server.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(killer);
}
