import "server-only";

import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { betterAuth } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { nextCookies } from "better-auth/next-js";
import { jwt } from "better-auth/plugins";
import Database from "better-sqlite3";
import { Pool } from "pg";

// Better-Auth on this app's server: email and password accounts, sessions in
// cookies, and the jwt plugin, which signs the short-lived API tokens the
// browser sends to the Tasks API as Bearer and publishes their public keys at
// /api/auth/jwks (EdDSA). The API checks those tokens against that JWKS, with
// iss and aud set to this app's base URL (BETTER_AUTH_URL), which are the
// plugin's defaults.

/**
 * Where Better-Auth keeps its tables (users, sessions, accounts, keys):
 * AUTH_DATABASE_URL=postgres://… for PostgreSQL (production), anything
 * else is a SQLite file path (default .data/auth.sqlite, for local runs).
 */
function authDatabase(): Pool | Database.Database {
  const url = process.env.AUTH_DATABASE_URL ?? "";
  if (/^postgres(ql)?:\/\//.test(url)) {
    return new Pool({ connectionString: url, max: 10 });
  }
  const file = resolve(url || ".data/auth.sqlite");
  mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  return db;
}

function createAuth() {
  return betterAuth({
    appName: "Tasks",
    baseURL: process.env.BETTER_AUTH_URL,
    secret: process.env.BETTER_AUTH_SECRET,
    database: authDatabase(),
    emailAndPassword: { enabled: true, autoSignIn: true },
    telemetry: { enabled: false },
    // nextCookies last: it lets server actions set Better-Auth's cookies.
    plugins: [jwt(), nextCookies()],
  });
}

export type Auth = ReturnType<typeof createAuth>;

// One instance per server process, made on first use rather than at import,
// so `next build` (which imports route modules) opens no database and needs
// no secret. Kept on globalThis so dev-mode reloads reuse it.
const store = globalThis as typeof globalThis & { tasksAuth?: Auth };

export function getAuth(): Auth {
  return (store.tasksAuth ??= createAuth());
}

/**
 * Creates or updates Better-Auth's tables. instrumentation.ts runs it once
 * when the server starts, so a fresh SQLite file or PostgreSQL database works
 * without a separate step (`npx @better-auth/cli migrate` does the same).
 */
export async function migrateAuthDatabase(): Promise<void> {
  const { runMigrations } = await getMigrations(getAuth().options);
  await runMigrations();
}
