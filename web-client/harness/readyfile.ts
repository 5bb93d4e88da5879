// How a harness learns that a server it started is ready, and where: tasksd
// (READY_FILE) and cmd/pgtest (-ready-file) write {"url", "pid"} to a file
// of the starter's choosing once they accept connections, and remove it on
// exit (internal/readyfile). The file appears whole (temp file + rename), so
// one that exists can be read at once. Their output is left to people.
import { readFile } from "node:fs/promises";
import { waitFor, type Child } from "./processes.js";

export interface Ready {
  /** tasksd: http://127.0.0.1:PORT; pgtest: postgres://…/postgres?sslmode=disable. */
  url: string;
  /** The process serving url (for pgtest, the postmaster). */
  pid: number;
}

/** Waits until child writes path; fails early if child exits first. */
export async function waitForReadyFile(path: string, child: Child, timeoutMs: number): Promise<Ready> {
  const text = await waitFor(
    `${child.name}'s ready file`,
    () =>
      readFile(path, "utf8").catch((err: NodeJS.ErrnoException) => {
        if (err.code === "ENOENT") return undefined;
        throw err;
      }),
    { timeoutMs, child },
  );
  const ready = JSON.parse(text) as Partial<Ready>;
  if (typeof ready.url !== "string" || ready.url === "") {
    throw new Error(`${child.name}'s ready file ${path} holds no URL: ${text}`);
  }
  return { url: ready.url, pid: ready.pid ?? 0 };
}
