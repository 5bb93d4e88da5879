// A throwaway PostgreSQL cluster, made by cmd/pgtest (built by build.ts):
// the same cluster the Go tests get from internal/pgtest (initdb in a
// temporary directory, a free loopback port, no durability, the postgres OS
// user when this process is root), so there is one way to make one. pgtest
// removes the cluster when stopped, and its postgres dies with it.
import { join } from "node:path";
import { start, type Child } from "./processes.js";
import { waitForReadyFile } from "./readyfile.js";

export interface Postgres {
  /** A superuser's URL of the maintenance database (postgres); CREATE DATABASE through it. */
  url: string;
  /** The URL of another database of the cluster. */
  databaseUrl(name: string): string;
  stop(): Promise<void>;
}

export interface PostgresOptions {
  /** A directory of this run, for the ready file. */
  dir: string;
  /** pgtest's own output. */
  logFile: string;
  /** The server's log, kept after the cluster is gone. */
  serverLogFile: string;
  /** Server settings ("name=value"), added to pgtest's own. */
  settings?: string[];
}

// initdb and the first start take a few seconds on a busy machine.
const startTimeoutMs = 120_000;
// pgtest gives postgres ten seconds to stop before killing it; it needs a
// little longer than that itself.
const stopGraceMs = 15_000;

/** Starts pgtest (its binary) and resolves once the cluster accepts connections. */
export async function startPostgres(pgtest: string, o: PostgresOptions): Promise<Postgres> {
  const readyFile = join(o.dir, "pgtest.ready.json");
  const args = ["-ready-file", readyFile, "-log", o.serverLogFile, ...(o.settings ?? []).flatMap((s) => ["-c", s])];
  const env = {
    PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    TMPDIR: process.env.TMPDIR,
    PGTEST_BINDIR: process.env.PGTEST_BINDIR, // where the server binaries are, when not Debian's
  };
  const child: Child = start("pgtest", pgtest, args, { env, logFile: o.logFile });
  const stop = () => child.stop(stopGraceMs);
  let url: string;
  try {
    ({ url } = await waitForReadyFile(readyFile, child, startTimeoutMs));
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url,
    databaseUrl(name) {
      const u = new URL(url);
      u.pathname = `/${encodeURIComponent(name)}`;
      return u.toString();
    },
    stop,
  };
}
