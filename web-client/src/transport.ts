import { createClient, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { TaskService } from "./gen/tasks/v1/tasks_pb.js";

/**
 * Returns the caller's bearer token (a JWT), or undefined/empty when there is
 * none. It is called before every request, so a token that was refreshed in
 * the meantime is picked up without recreating the transport.
 */
export type TokenSource = () => string | null | undefined | Promise<string | null | undefined>;

/** How to reach the Tasks API. */
export interface TasksTransportOptions {
  /**
   * The server's base URL, e.g. `https://api.example.com`. In a browser a
   * path on the same origin works too; server-side code needs an absolute URL.
   */
  baseUrl: string;
  /** Supplies the `Authorization: Bearer` token; see {@link TokenSource}. */
  getToken: TokenSource;
  /**
   * The wire protocol. `connect` sends GetTask and ListTasks as cacheable
   * HTTP GET requests; `grpc-web` suits proxies that only speak gRPC-Web.
   */
  protocol: "connect" | "grpc-web";
  /**
   * Binary protobuf instead of JSON. Defaults to JSON for `connect` (readable
   * in the browser's network tab) and to binary for `grpc-web` (what
   * gRPC-Web servers other than Connect's expect).
   */
  binary?: boolean;
  /** A fetch to use instead of `globalThis.fetch`, e.g. to set `credentials`. */
  fetch?: typeof globalThis.fetch;
  /**
   * More interceptors, run before the bearer token is added (the first one
   * is the outermost). Use one to handle Unauthenticated in one place.
   */
  interceptors?: Interceptor[];
}

/**
 * An interceptor that sets `Authorization: Bearer <token>` from getToken on
 * every call, and sends no Authorization header when it returns nothing.
 * Exported for transports built by hand, e.g. connect-node's gRPC transport.
 */
export function bearerToken(getToken: TokenSource): Interceptor {
  return (next) => async (req) => {
    const token = await getToken();
    if (token) {
      req.header.set("Authorization", `Bearer ${token}`);
    }
    return next(req);
  };
}

/**
 * Creates the transport for the Tasks API. Create it once per app (or once
 * per server process) and share it: connect-query's TransportProvider wants
 * exactly that.
 */
export function createTasksTransport(options: TasksTransportOptions): Transport {
  const common = {
    baseUrl: options.baseUrl,
    interceptors: [...(options.interceptors ?? []), bearerToken(options.getToken)],
    ...(options.fetch ? { fetch: options.fetch } : {}),
  };
  switch (options.protocol) {
    case "connect":
      return createConnectTransport({
        ...common,
        useBinaryFormat: options.binary ?? false,
        useHttpGet: true,
      });
    case "grpc-web":
      return createGrpcWebTransport({
        ...common,
        useBinaryFormat: options.binary ?? true,
      });
    default:
      throw new Error(`unknown protocol ${String(options.protocol satisfies never)}`);
  }
}

/** Creates a typed TaskService client on a new transport. */
export function createTasksClient(options: TasksTransportOptions): Client<typeof TaskService> {
  return createClient(TaskService, createTasksTransport(options));
}
