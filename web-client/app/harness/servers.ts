// The two servers of the stack: the Go API (tasksd, started by the shared
// harness in ../../harness) configured for this app, and this Next.js app,
// each started on 127.0.0.1 and waited for.
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { run, start, waitFor, type Child } from "../../harness/processes.js";
import { startTasksd } from "../../harness/tasksd.js";

export const appDir = fileURLToPath(new URL("..", import.meta.url));

const basePath = process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin";

export interface ApiOptions {
  /** postgres://… or empty for the embedded SQLite database in dataDir. */
  databaseUrl?: string;
  dataDir: string;
  /** The app's base URL: its JWKS is trusted, and it is the token's iss and aud. */
  appUrl: string;
  /** A directory of this run, for the API's ready file. */
  workDir: string;
  logDir: string;
  listenAddr?: string;
  /** LOG_LEVEL; default TASKSD_LOG_LEVEL, else the harness's (warn). info logs a line per call. */
  logLevel?: string;
}

/** Starts the API (bin, a built tasksd) to trust this app's tokens; resolves once it listens. */
export async function startApi(bin: string, o: ApiOptions): Promise<{ url: string; child: Child }> {
  const { url, child } = await startTasksd(bin, {
    settings: {
      LISTEN_ADDR: o.listenAddr,
      DATA_DIR: o.dataDir,
      DATABASE_URL: o.databaseUrl,
      AUTH_JWKS_URL: `${o.appUrl}/api/auth/jwks`,
      AUTH_ISSUER: o.appUrl,
      AUTH_AUDIENCE: o.appUrl,
      CORS_ALLOWED_ORIGINS: o.appUrl,
      LOG_LEVEL: o.logLevel ?? process.env.TASKSD_LOG_LEVEL,
    },
    dir: o.workDir,
    logFile: apiLogFile(o.logDir),
  });
  return { url, child };
}

/** Where the API logs. */
export function apiLogFile(logDir: string): string {
  return join(logDir, "tasksd.log");
}

/** Builds the client package's dist/ (`npm run build` in ..), which the app imports. */
export async function buildClient(logDir: string): Promise<void> {
  await run("npm run client", "npm", ["run", "client"], {
    cwd: appDir,
    env: process.env,
    logFile: join(logDir, "client-build.log"),
  });
}

/** `next build` (webpack, with its type check of everything), the client package first. */
export async function buildApp(logDir: string): Promise<void> {
  await run("npm run build", "npm", ["run", "build"], {
    cwd: appDir,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
    logFile: join(logDir, "next-build.log"),
  });
}

export interface AppOptions {
  port: number;
  apiUrl: string;
  /** postgres://… or a SQLite file for Better-Auth's tables. */
  authDatabase: string;
  secret: string;
  logDir: string;
  /** `next dev` instead of the production build. */
  dev?: boolean;
  /** Show developer switches (TASKS_APP_DEV_TOOLS=1); next dev always does. */
  devTools?: boolean;
}

/** Starts the app on 127.0.0.1:port; resolves once its JWKS answers (migrations done, keys made). */
export async function startApp(o: AppOptions, track: (child: Child) => void): Promise<string> {
  const url = `http://127.0.0.1:${o.port}`;
  const next = join(appDir, "node_modules", "next", "dist", "bin", "next");
  const mode = o.dev ? ["dev", "--webpack"] : ["start"];
  const child = start("next", process.execPath, [next, ...mode, "--hostname", "127.0.0.1", "--port", String(o.port)], {
    cwd: appDir,
    env: {
      PATH: basePath,
      HOME: process.env.HOME,
      NODE_ENV: o.dev ? "development" : "production",
      NEXT_TELEMETRY_DISABLED: "1",
      BETTER_AUTH_URL: url,
      BETTER_AUTH_SECRET: o.secret,
      AUTH_DATABASE_URL: o.authDatabase,
      TASKS_API_URL: o.apiUrl,
      TASKS_APP_DEV_TOOLS: o.devTools ? "1" : undefined,
    },
    logFile: join(o.logDir, o.dev ? "next-dev.log" : "next-start.log"),
  });
  track(child);
  await waitFor(
    "the app's JWKS",
    async () => {
      const res = await fetch(`${url}/api/auth/jwks`);
      const body = res.ok ? ((await res.json()) as { keys?: unknown[] }) : undefined;
      return body?.keys?.length ? true : undefined;
    },
    { timeoutMs: o.dev ? 180_000 : 60_000, child },
  );
  return url;
}
