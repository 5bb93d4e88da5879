// The whole stack on this machine: (PostgreSQL,) the Go API and this app,
// wired together on free loopback ports. The browser tests and
// `npm run stack` both start it from here.
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import pg from "pg";
import { buildCommands } from "../../harness/build.js";
import { startPostgres, type Postgres } from "../../harness/postgres.js";
import { freePort, type Child } from "../../harness/processes.js";
import { makeWorkDir } from "../../harness/workdir.js";
import { apiLogFile, buildApp, buildClient, startApi, startApp, type ApiOptions } from "./servers";

export interface Stack {
  appUrl: string;
  apiUrl: string;
  /** The API's log (a line per call at LOG_LEVEL info). */
  apiLogFile: string;
  /**
   * Restarts the app (same URL, same secret) as in production: Better-Auth's
   * tables in a new PostgreSQL database of the stack's cluster, and no
   * developer switches. Only for tasksDatabase "postgres". Resolves to that
   * database's URL.
   */
  moveAuthToPostgres(): Promise<string>;
  /**
   * Stops the API, and starts it again on the same port and data. While it
   * is down, whileDown runs with the URL of another API on the same data
   * (another port, which the app does not know): changes made through it
   * are made while the app's API is down.
   */
  restartApi(whileDown?: (otherApiUrl: string) => Promise<void>): Promise<void>;
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
  /** Show the app's developer switches (TASKS_APP_DEV_TOOLS=1). */
  devTools?: boolean;
  /** The API's LOG_LEVEL (default warn, or TASKSD_LOG_LEVEL). */
  apiLogLevel?: string;
}

export async function startStack(o: StackOptions): Promise<Stack> {
  await mkdir(o.logDir, { recursive: true });
  const workDir = await makeWorkDir("tasks-app-");
  const dataDir = o.dataDir ?? workDir;
  await mkdir(dataDir, { recursive: true });

  const children: Child[] = [];
  let cluster: Postgres | undefined;
  const stop = async () => {
    // Reverse order: the app, then the API, then the database.
    for (const child of children.reverse()) await child.stop();
    await cluster?.stop();
    await rm(workDir, { recursive: true, force: true });
  };

  try {
    // The slow parts at once: the app's build, and the Go build followed by
    // PostgreSQL's initdb and start.
    const goBuild = buildCommands(workDir, ["tasksd", "pgtest"], join(o.logDir, "go-build.log"));
    const startCluster = async (pgtest: string) =>
      (cluster = await startPostgres(pgtest, {
        dir: workDir,
        logFile: join(o.logDir, "pgtest.log"),
        serverLogFile: join(o.logDir, "postgres.log"),
      }));
    const [, { tasksd }, started] = await Promise.all([
      o.dev ? buildClient(o.logDir) : o.build ? buildApp(o.logDir) : undefined,
      goBuild,
      o.tasksDatabase === "postgres" ? goBuild.then(({ pgtest }) => startCluster(pgtest)) : undefined,
    ]);
    const databaseUrl = started ? await createDatabase(started, "tasks") : undefined;

    const appPort = o.appPort ?? (await freePort());
    const appUrl = `http://127.0.0.1:${appPort}`;
    // The API first: the app needs its URL. Until the app is up the API
    // cannot fetch its keys; it fetches them again when the first token
    // names a key it lacks.
    const track = (child: Child) => children.push(child);
    const apiOptions: ApiOptions = {
      databaseUrl,
      dataDir,
      appUrl,
      workDir,
      logDir: o.logDir,
      logLevel: o.apiLogLevel,
      ...(o.apiPort ? { listenAddr: `127.0.0.1:${o.apiPort}` } : {}),
    };
    let api = await startApi(tasksd, apiOptions);
    track(api.child);
    const apiUrl = api.url;
    const app = {
      port: appPort,
      apiUrl,
      authDatabase: join(dataDir, "auth.sqlite"),
      secret: await authSecret(dataDir),
      logDir: o.logDir,
      dev: o.dev,
      devTools: o.devTools,
    };
    await startApp(app, track);
    const moveAuthToPostgres = async () => {
      if (!cluster) throw new Error("the stack runs no PostgreSQL");
      const running = children.pop()!; // the app is the last one started
      await running.stop();
      const authDatabase = await createDatabase(cluster, "auth");
      await startApp({ ...app, authDatabase, devTools: false }, track);
      return authDatabase;
    };
    const restartApi = async (whileDown?: (otherApiUrl: string) => Promise<void>) => {
      const at = children.indexOf(api.child);
      await api.child.stop();
      if (whileDown) {
        const other = await startApi(tasksd, { ...apiOptions, listenAddr: undefined });
        try {
          await whileDown(other.url);
        } finally {
          await other.child.stop();
        }
      }
      api = await startApi(tasksd, { ...apiOptions, listenAddr: new URL(apiUrl).host });
      children[at] = api.child;
    };
    return { appUrl, apiUrl, apiLogFile: apiLogFile(o.logDir), moveAuthToPostgres, restartApi, stop };
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

// createDatabase makes an empty database in the cluster and returns its URL.
async function createDatabase(cluster: Postgres, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: cluster.url });
  await client.connect();
  try {
    await client.query(`create database "${name}"`);
  } finally {
    await client.end();
  }
  return cluster.databaseUrl(name);
}
