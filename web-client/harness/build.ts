// The Go programs the harnesses run, built from this repository once per run,
// so the tests always exercise the tree they sit in.
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { run } from "./processes.js";

/** The repository's root: this file is web-client/harness/build.ts. */
export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

/** The commands under ./cmd that the harnesses start. */
export type Command = "tasksd" | "pgtest";

/** Builds ./cmd/<name> for each name into dir, in one `go build`, and returns each binary's path. */
export async function buildCommands<C extends Command>(dir: string, names: C[], logFile: string): Promise<Record<C, string>> {
  await run(
    `go build ${names.map((n) => `./cmd/${n}`).join(" ")}`,
    "go",
    ["build", "-o", `${dir}/`, ...names.map((n) => `./cmd/${n}`)],
    { cwd: repoRoot, env: process.env, logFile },
  );
  return Object.fromEntries(names.map((n) => [n, join(dir, n)])) as Record<C, string>;
}
