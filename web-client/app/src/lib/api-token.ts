import { authClient } from "./auth-client";

// The signed-in user's token for the Tasks API, from Better-Auth's jwt plugin
// (/api/auth/token). Tokens live 15 minutes, so one is reused until a minute
// before it expires rather than fetched for every call, and concurrent calls
// share one fetch.

const refreshBeforeExpiryMs = 60_000;

let cached: { token: string; expiresAt: number } | undefined;
let pending: Promise<string | undefined> | undefined;

/** The transport's getToken: called before every API call. */
export function apiToken(): Promise<string | undefined> | string {
  if (cached && Date.now() < cached.expiresAt - refreshBeforeExpiryMs) {
    return cached.token;
  }
  pending ??= fetchToken().finally(() => {
    pending = undefined;
  });
  return pending;
}

/** Drops the cached token; call on sign-out so the next user gets their own. */
export function forgetApiToken(): void {
  cached = undefined;
}

async function fetchToken(): Promise<string | undefined> {
  const { data } = await authClient.token();
  if (!data?.token) {
    cached = undefined;
    return undefined; // signed out: the call goes without a token and fails Unauthenticated
  }
  cached = { token: data.token, expiresAt: expiryOf(data.token) };
  return data.token;
}

// expiryOf reads the JWT's exp claim (ms since the epoch). It only decides
// when to fetch a new token; the API server verifies the token.
function expiryOf(token: string): number {
  const payload = token.split(".")[1] ?? "";
  const json = atob(payload.replace(/-/g, "+").replace(/_/g, "/"));
  const { exp } = JSON.parse(json) as { exp?: number };
  return typeof exp === "number" ? exp * 1000 : 0;
}
