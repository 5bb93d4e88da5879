// npm run stack: the Go API and this app on this machine, for a person to
// click through. No PostgreSQL needed: the API keeps tasks in its embedded
// SQLite database and Better-Auth keeps accounts in SQLite, both in .stack/
// (kept between runs). Ctrl-C stops both.
//
//   npm run stack                  production build, then next start
//   npm run stack -- --dev         next dev (no build; pages compile on first visit)
//   npm run stack -- --no-build    reuse the last production build
//
// APP_PORT (default 3000) and API_PORT (default 8080) choose the ports;
// TASKS_APP_DEV_TOOLS=1 shows the developer switches (next dev always does).
import { join } from "node:path";
import { startStack } from "../harness/stack";
import { appDir } from "../harness/servers";

const args = new Set(process.argv.slice(2));
const dev = args.has("--dev");
const dataDir = join(appDir, ".stack");

console.log(dev ? "Starting the API and `next dev`…" : "Building the app and the API, then starting them (a few minutes the first time)…");
const stack = await startStack({
  logDir: join(dataDir, "logs"),
  dataDir,
  tasksDatabase: "sqlite",
  build: !args.has("--no-build"),
  dev,
  appPort: Number(process.env.APP_PORT ?? 3000),
  apiPort: Number(process.env.API_PORT ?? 8080),
  devTools: process.env.TASKS_APP_DEV_TOOLS === "1",
});

console.log(`
  Open ${stack.appUrl} and sign up (any email, a password of 8+ characters).

  API     ${stack.apiUrl}  (tasks in ${join(dataDir, "tasks.db")})
  Auth    Better-Auth in the app (accounts in ${join(dataDir, "auth.sqlite")})
  Logs    ${join(dataDir, "logs")}

  Ctrl-C stops both.
`);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.log("\nStopping…");
    void stack.stop().then(() => process.exit(0));
  });
}
