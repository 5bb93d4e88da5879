import "server-only";

import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { bearerToken, TaskService } from "@example/tasks-client";
import { headers } from "next/headers";
import { auth } from "./auth";

// One transport per server process, with an absolute URL. The token is read
// per call from the current request's session (headers() is request-scoped),
// so server components and route handlers act as the signed-in user.
const transport = createConnectTransport({
  baseUrl: process.env.TASKS_API_URL ?? "http://localhost:8080",
  httpVersion: "1.1",
  interceptors: [
    bearerToken(async () => (await auth.api.getToken({ headers: await headers() })).token),
  ],
});

export const tasks = createClient(TaskService, transport);
