// `tasksd serve` for the tests and `npm run stack`: on a free loopback port
// unless told otherwise, with only the settings it is given, its address
// read from its ready file.
import { join } from "node:path";
import { start, type Child } from "./processes.js";
import { waitForReadyFile } from "./readyfile.js";

export interface TasksdOptions {
  /**
   * Its settings (DATA_DIR, DATABASE_URL, AUTH_…, CORS_ALLOWED_ORIGINS, …).
   * Nothing else of this process's environment (a developer's DATABASE_URL,
   * PORT, …) reaches it. LISTEN_ADDR defaults to 127.0.0.1:0 and LOG_LEVEL
   * to warn; an undefined value leaves the default.
   */
  settings: Record<string, string | undefined>;
  /** A directory of this run, for the ready file. */
  dir: string;
  logFile: string;
  /** Called with each line of its output, e.g. to echo it. */
  onLine?: (line: string) => void;
}

export interface Tasksd {
  /** Where it listens, e.g. http://127.0.0.1:40123. */
  url: string;
  /** The environment it runs with, for other tasksd commands (`tasksd token`). */
  env: Record<string, string>;
  child: Child;
}

const startTimeoutMs = 30_000;

/** Starts bin (a built tasksd) and resolves once it accepts connections. */
export async function startTasksd(bin: string, o: TasksdOptions): Promise<Tasksd> {
  const readyFile = join(o.dir, "tasksd.ready.json");
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    LISTEN_ADDR: "127.0.0.1:0",
    LOG_LEVEL: "warn",
  };
  for (const [name, value] of Object.entries(o.settings)) {
    if (value !== undefined) env[name] = value;
  }
  env.READY_FILE = readyFile;
  const child = start("tasksd", bin, ["serve"], { env, logFile: o.logFile, onLine: o.onLine });
  try {
    const { url } = await waitForReadyFile(readyFile, child, startTimeoutMs);
    return { url, env, child };
  } catch (err) {
    await child.stop();
    throw err;
  }
}
