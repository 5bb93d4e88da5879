"use client";

import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { TransportProvider } from "@connectrpc/connect-query";
import { isServer, QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { createTasksTransport } from "@example/tasks-client";
import type { ReactNode } from "react";
import { browserToken } from "../lib/browser-token";

// Unauthenticated is handled here, once, for every call the app makes.
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

// One transport for the whole app, created once.
const transport = createTasksTransport({
  baseUrl: process.env.NEXT_PUBLIC_TASKS_API_URL ?? "http://localhost:8080",
  getToken: browserToken,
  protocol: "connect",
  interceptors: [signInOnUnauthenticated],
});

// One query client in the browser; a fresh one per server render, so no
// cached data is shared between users (TanStack Query's Next.js advice).
let browserQueryClient: QueryClient | undefined;
function getQueryClient(): QueryClient {
  if (isServer) return new QueryClient();
  return (browserQueryClient ??= new QueryClient());
}

export function Providers({ children }: { children: ReactNode }) {
  return (
    <TransportProvider transport={transport}>
      <QueryClientProvider client={getQueryClient()}>{children}</QueryClientProvider>
    </TransportProvider>
  );
}
