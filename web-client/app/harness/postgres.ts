// A throwaway PostgreSQL cluster for the tests, as the Go tests make one
// (internal/pgtest): initdb in a temporary directory, a free loopback port,
// no durability, run as the postgres OS user when this process is root.
import { chmod, chown, mkdir } from "node:fs/promises";
import { join } from "node:path";
import pg from "pg";
import { freePort, postgresUser, run, start, waitFor, type Child } from "./processes";

const binDir = process.env.PGTEST_BINDIR || "/usr/lib/postgresql/15/bin";

export interface Postgres {
  /** The URL of a database of this cluster (sslmode=disable). */
  url(database: string): string;
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startPostgres(workDir: string, logDir: string): Promise<Postgres> {
  const user = postgresUser();
  const dir = join(workDir, "pg");
  await mkdir(dir);
  if (user) {
    // The cluster's owner must reach its directory through workDir too.
    await chmod(workDir, 0o755);
    await chown(dir, user.uid, user.gid);
  }
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", LANG: "C.UTF-8" };
  const logFile = join(logDir, "postgres.log");
  await run("initdb", join(binDir, "initdb"), ["-D", join(dir, "data"), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"], {
    cwd: dir,
    env,
    logFile,
    user,
  });

  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort(); // may be taken before postgres binds it: then try another
    const server = start("postgres", join(binDir, "postgres"), [
      "-D", join(dir, "data"), "-p", String(port), "-k", dir,
      "-c", "listen_addresses=127.0.0.1",
      "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
    ], { cwd: dir, env, logFile, user, stopSignal: "SIGINT" /* fast shutdown */ });
    const url = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}?sslmode=disable`;
    try {
      await waitFor("PostgreSQL to accept connections", () => query(url("postgres"), "select 1").then(() => true), {
        timeoutMs: 60_000,
        child: server,
      });
    } catch (err) {
      lastError = err;
      await server.stop();
      continue;
    }
    return cluster(server, url);
  }
  throw lastError;
}

function cluster(server: Child, url: (database: string) => string): Postgres {
  return {
    url,
    async createDatabase(name) {
      await query(url("postgres"), `create database "${name}"`);
      return url(name);
    },
    stop: () => server.stop(),
  };
}

async function query(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
