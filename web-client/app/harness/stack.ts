// The whole stack on this machine: (PostgreSQL,) the Go API and this app,
// wired together on free loopback ports. The browser tests and
// `npm run stack` both start it from here.
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startPostgres, type Postgres } from "./postgres";
import { freePort, type Child } from "./processes";
import { buildApp, buildClient, buildTasksd, startApp, startTasksd } from "./servers";

export interface Stack {
  appUrl: string;
  apiUrl: string;
  /**
   * Restarts the app (same URL, same secret) with Better-Auth's tables in a
   * new PostgreSQL database of the stack's cluster: the production setup.
   * Only for tasksDatabase "postgres". Resolves to that database's URL.
   */
  moveAuthToPostgres(): Promise<string>;
  /** Stops everything this stack started and removes its temporary files. */
  stop(): Promise<void>;
}

export interface StackOptions {
  /** Where logs go (kept afterwards). */
  logDir: string;
  /**
   * "postgres": a throwaway cluster holds the API's tasks (as in production).
   * "sqlite": the API's embedded SQLite database in dataDir.
   */
  tasksDatabase: "postgres" | "sqlite";
  /** Where SQLite databases and the auth secret live; default a temporary directory. */
  dataDir?: string;
  /** Build the app first (next build); false reuses .next as it is. */
  build: boolean;
  /** Run `next dev` instead of the production build. */
  dev?: boolean;
  /** Fixed ports for people; tests leave them unset (free ports). */
  appPort?: number;
  apiPort?: number;
}

const tempPrefix = "tasks-app-";

export async function startStack(o: StackOptions): Promise<Stack> {
  await removeStale();
  await mkdir(o.logDir, { recursive: true });
  const workDir = await mkdtemp(join(tmpdir(), tempPrefix));
  await writeFile(join(workDir, "owner.pid"), String(process.pid));
  const dataDir = o.dataDir ?? workDir;
  await mkdir(dataDir, { recursive: true });

  const children: Child[] = [];
  let pg: Postgres | undefined;
  const stop = async () => {
    // Reverse order: the app, then the API, then the database.
    for (const child of children.reverse()) await child.stop();
    await pg?.stop();
    await rm(workDir, { recursive: true, force: true });
  };

  try {
    // The slow parts at once: the app's build, the Go build, initdb.
    const [, tasksd, cluster] = await Promise.all([
      o.dev ? buildClient(o.logDir) : o.build ? buildApp(o.logDir) : Promise.resolve(),
      buildTasksd(workDir, o.logDir),
      o.tasksDatabase === "postgres" ? startPostgres(workDir, o.logDir) : Promise.resolve(undefined),
    ]);
    pg = cluster;
    const databaseUrl = pg ? await pg.createDatabase("tasks") : undefined;

    const appPort = o.appPort ?? (await freePort());
    const appUrl = `http://127.0.0.1:${appPort}`;
    // The API first: the app needs its URL. Until the app is up the API
    // cannot fetch its keys; it fetches them again when the first token
    // names a key it lacks.
    const track = (child: Child) => children.push(child);
    const apiUrl = await startTasksd(tasksd, {
      databaseUrl,
      dataDir,
      appUrl,
      logDir: o.logDir,
      ...(o.apiPort ? { listenAddr: `127.0.0.1:${o.apiPort}` } : {}),
    }, track);
    const app = {
      port: appPort,
      apiUrl,
      authDatabase: join(dataDir, "auth.sqlite"),
      secret: await authSecret(dataDir),
      logDir: o.logDir,
      dev: o.dev,
    };
    await startApp(app, track);
    const moveAuthToPostgres = async () => {
      if (!pg) throw new Error("the stack runs no PostgreSQL");
      const running = children.pop()!; // the app is the last one started
      await running.stop();
      const authDatabase = await pg.createDatabase("auth");
      await startApp({ ...app, authDatabase }, track);
      return authDatabase;
    };
    return { appUrl, apiUrl, moveAuthToPostgres, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

// Better-Auth's secret (signs cookies, encrypts the signing keys): made once
// per data directory and kept there, so sessions survive restarts.
async function authSecret(dataDir: string): Promise<string> {
  const file = join(dataDir, "auth-secret");
  try {
    return (await readFile(file, "utf8")).trim();
  } catch {
    const secret = randomBytes(32).toString("base64url");
    await writeFile(file, secret, { mode: 0o600 });
    return secret;
  }
}

// Removes the temporary directories of runs that were killed before they
// could clean up (their processes died with them: see processes.ts).
async function removeStale(): Promise<void> {
  for (const name of await readdir(tmpdir())) {
    if (!name.startsWith(tempPrefix)) continue;
    const dir = join(tmpdir(), name);
    const owner = Number(await readFile(join(dir, "owner.pid"), "utf8").catch(() => "0"));
    if (!(owner > 0) || alive(owner)) continue; // no pid yet: a run that is just starting
    await rm(dir, { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
