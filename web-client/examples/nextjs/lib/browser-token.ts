// The browser's API token: Better-Auth's jwt plugin serves the signed-in
// user's JWT at /api/auth/token. Tokens live 15 minutes, so one is reused
// until shortly before it expires instead of being fetched for every call.
let cached: { token: string; expiresAt: number } | undefined;

export async function browserToken(): Promise<string | undefined> {
  if (cached && Date.now() < cached.expiresAt - 60_000) {
    return cached.token;
  }
  const res = await fetch("/api/auth/token", { credentials: "include" });
  if (!res.ok) {
    cached = undefined;
    return undefined; // signed out: the call goes without a token and fails Unauthenticated
  }
  const { token } = (await res.json()) as { token: string };
  const claims = JSON.parse(atob(token.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/"))) as {
    exp: number;
  };
  cached = { token, expiresAt: claims.exp * 1000 };
  return token;
}
