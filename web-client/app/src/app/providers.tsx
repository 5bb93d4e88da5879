"use client";

import { Code, ConnectError, type Interceptor, type Transport } from "@connectrpc/connect";
import { TransportProvider } from "@connectrpc/connect-query";
import { isServer, QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { createTasksTransport } from "@example/tasks-client";
import { createContext, useContext, type ReactNode } from "react";
import { apiToken } from "@/lib/api-token";

// Unauthenticated is handled here, once, for every call the app makes: the
// session is gone (or never was), so sign in again and come back.
const signInOnUnauthenticated: Interceptor = (next) => async (req) => {
  try {
    return await next(req);
  } catch (err) {
    if (err instanceof ConnectError && err.code === Code.Unauthenticated) {
      window.location.assign(`/sign-in?next=${encodeURIComponent(window.location.pathname)}`);
    }
    throw err;
  }
};

// One transport for the app, created once. The API's URL comes from the
// server at run time (TASKS_API_URL), so one build serves any deployment.
let transport: Transport | undefined;
function tasksTransport(baseUrl: string): Transport {
  return (transport ??= createTasksTransport({
    baseUrl,
    getToken: apiToken,
    protocol: "connect",
    interceptors: [signInOnUnauthenticated],
  }));
}

// Retry only what may succeed on a second try: Unavailable (the database,
// or the API still fetching this app's keys) and network trouble.
function retryable(failures: number, err: unknown): boolean {
  const code = ConnectError.from(err).code;
  return failures < 3 && (code === Code.Unavailable || code === Code.Unknown || code === Code.DeadlineExceeded);
}

function newQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: { retry: retryable, staleTime: 5_000 },
      mutations: { retry: false },
    },
  });
}

// One query client in the browser; a fresh one per server render, so no
// cached data is shared between users (TanStack Query's Next.js advice).
let browserQueryClient: QueryClient | undefined;
export function getQueryClient(): QueryClient {
  if (isServer) return newQueryClient();
  return (browserQueryClient ??= newQueryClient());
}

// Whether to show switches meant for developers, not users (see layout.tsx).
const DevToolsContext = createContext(false);

/** Whether developer switches are shown: TASKS_APP_DEV_TOOLS=1, or next dev. */
export function useDevTools(): boolean {
  return useContext(DevToolsContext);
}

export function Providers({ apiUrl, devTools, children }: { apiUrl: string; devTools: boolean; children: ReactNode }) {
  return (
    <TransportProvider transport={tasksTransport(apiUrl)}>
      <QueryClientProvider client={getQueryClient()}>
        <DevToolsContext value={devTools}>{children}</DevToolsContext>
      </QueryClientProvider>
    </TransportProvider>
  );
}
