// Child processes the tests and `npm run stack` run: started so they die with
// this process even when it is killed (setpriv's parent-death signal), logged
// to a file, and stopped as a whole process group.
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, existsSync } from "node:fs";
import { createServer } from "node:net";

const setpriv = ["/usr/bin/setpriv", "/bin/setpriv"].find((p) => existsSync(p));

export interface StartOptions {
  cwd?: string;
  env: Record<string, string | undefined>;
  /** Where stdout and stderr go (appended); the last lines are kept for errors too. */
  logFile: string;
  /** Called with each line of output (stdout and stderr), e.g. to echo it. */
  onLine?: (line: string) => void;
}

/** A process this one started, with the tail of its output for error messages. */
export class Child {
  readonly exited: Promise<void>;
  private readonly tail: string[] = [];

  constructor(
    readonly name: string,
    readonly proc: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) resolve();
      else proc.once("exit", () => resolve());
    });
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  record(chunk: string): void {
    for (const line of chunk.split("\n")) {
      if (line.trim() === "") continue;
      this.tail.push(line);
      if (this.tail.length > 30) this.tail.shift();
    }
  }

  output(): string {
    return this.tail.join("\n");
  }

  /** Asks the process to stop, then kills its whole group after graceMs. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.running || this.proc.pid === undefined) return;
    signalGroup(this.proc.pid, "SIGTERM"); // tasksd, pgtest and next all stop gracefully on it
    const timer = setTimeout(() => signalGroup(this.proc.pid!, "SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(timer);
    signalGroup(this.proc.pid, "SIGKILL"); // anything it left behind in its group
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

export function start(name: string, command: string, args: string[], opts: StartOptions): Child {
  const wrapper: string[] = [];
  if (setpriv) {
    // Dies with this process: SIGKILL when the parent goes, however it goes.
    wrapper.push(setpriv, "--pdeathsig", "KILL", "--");
  }
  const [file, ...rest] = [...wrapper, command, ...args];
  const log = createWriteStream(opts.logFile, { flags: "a" });
  const proc = spawn(file!, rest, {
    cwd: opts.cwd,
    env: opts.env as NodeJS.ProcessEnv, // Next.js types make NODE_ENV required; a child needs none
    detached: true, // its own process group, so stop() reaches its children too
    stdio: ["ignore", "pipe", "pipe"],
  });
  const child = new Child(name, proc);
  for (const stream of [proc.stdout!, proc.stderr!]) {
    let partial = "";
    stream.setEncoding("utf8").on("data", (chunk: string) => {
      log.write(chunk);
      child.record(chunk);
      const lines = (partial + chunk).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) opts.onLine?.(line);
    });
  }
  proc.once("close", () => log.end()); // after the last output: "exit" may come first
  return child;
}

/** Runs a command to completion; rejects with its output's tail if it fails. */
export async function run(name: string, command: string, args: string[], opts: StartOptions): Promise<void> {
  const child = start(name, command, args, opts);
  await child.exited;
  if (child.proc.exitCode !== 0) {
    throw new Error(`${name} failed (exit ${child.proc.exitCode ?? child.proc.signalCode}); see ${opts.logFile}:\n${child.output()}`);
  }
}

/**
 * Polls check until it returns a value, failing early when child exits and
 * with what was last wrong when the time is up.
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  { timeoutMs, child }: { timeoutMs: number; child?: Child },
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (let delay = 50; ; delay = Math.min(delay * 2, 500)) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (child && !child.running) {
      throw new Error(`${child.name} exited while waiting for ${what}:\n${child.output()}`);
    }
    if (Date.now() > deadline) {
      const cause = last instanceof Error ? `: ${last.message}` : "";
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}${child ? `\n${child.output()}` : ""}`);
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}
