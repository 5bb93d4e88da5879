import { toNextJsHandler } from "better-auth/next-js";
import { getAuth } from "@/lib/auth";

// Better-Auth's endpoints: sign-up, sign-in, sign-out, session, /token (the
// API's JWT) and /jwks (its public keys, which the Tasks API fetches).
export async function GET(request: Request): Promise<Response> {
  return toNextJsHandler(getAuth()).GET(request);
}

export async function POST(request: Request): Promise<Response> {
  return toNextJsHandler(getAuth()).POST(request);
}
