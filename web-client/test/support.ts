// Helpers shared by the tests: tokens, one client per protocol, and error
// assertions.
import { createHmac, randomUUID } from "node:crypto";
import { createClient, type Client, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { inject } from "vitest";
import { bearerToken, createTasksTransport, TaskService, type TokenSource } from "../src/index.js";

export const baseUrl = inject("baseUrl");

/** Mints an HS256 JWT signed with the server's AUTH_JWT_SECRET. */
export function mintToken(
  sub: string,
  { ttlSeconds = 3600, secret = inject("jwtSecret") }: { ttlSeconds?: number; secret?: string } = {},
): string {
  const now = Math.floor(Date.now() / 1000);
  const b64url = (v: string | Buffer) => Buffer.from(v).toString("base64url");
  const header = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const claims = b64url(JSON.stringify({ sub, iat: now, exp: now + ttlSeconds }));
  const signature = createHmac("sha256", secret).update(`${header}.${claims}`).digest();
  return `${header}.${claims}.${b64url(signature)}`;
}

/** A fresh user id, so tests never see each other's tasks. */
export function newUser(label: string): string {
  return `${label}-${randomUUID()}`;
}

/** Every protocol a server at baseUrl speaks, each built the way an app would build it. */
export function protocolsAt(baseUrl: string): Record<string, (getToken: TokenSource) => Transport> {
  return {
    "Connect JSON": (getToken) => createTasksTransport({ baseUrl, getToken, protocol: "connect" }),
    "Connect binary": (getToken) =>
      createTasksTransport({ baseUrl, getToken, protocol: "connect", binary: true }),
    "gRPC-Web": (getToken) => createTasksTransport({ baseUrl, getToken, protocol: "grpc-web" }),
    "gRPC-Web JSON": (getToken) =>
      createTasksTransport({ baseUrl, getToken, protocol: "grpc-web", binary: false }),
    // gRPC needs HTTP/2: connect-node over cleartext h2c.
    gRPC: (getToken) =>
      createGrpcTransport({ baseUrl, interceptors: [bearerToken(getToken)] }),
  };
}

/** Every protocol the test run's server speaks. */
export const protocols = protocolsAt(baseUrl);

export type TasksClient = Client<typeof TaskService>;

/** A client for protocol whose calls carry a valid token for user. */
export function clientFor(protocol: string, user: string): TasksClient {
  const token = mintToken(user);
  return createClient(TaskService, protocols[protocol]!(() => token));
}

/** A client for protocol whose calls carry whatever getToken returns. */
export function clientWithToken(protocol: string, getToken: TokenSource): TasksClient {
  return createClient(TaskService, protocols[protocol]!(getToken));
}

/** Runs fn, which must fail, and returns the error. */
export async function mustFail(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error("expected the call to fail, but it succeeded");
}
