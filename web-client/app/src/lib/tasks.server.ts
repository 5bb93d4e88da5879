import "server-only";

import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { bearerToken, TaskService } from "@example/tasks-client";
import { isAPIError } from "better-auth/api";
import { headers } from "next/headers";
import { tasksApiUrl } from "./api-url";
import { getAuth } from "./auth";

// The Tasks API for server components and route handlers. One transport per
// server process, with an absolute URL. The token is read per call from the
// current request's session (headers() is request-scoped), so every call
// acts as the signed-in user.

/** The request's user's API token (Better-Auth's jwt plugin), or undefined when signed out. */
async function sessionToken(): Promise<string | undefined> {
  try {
    return (await getAuth().api.getToken({ headers: await headers() })).token;
  } catch (err) {
    // No session: the call goes without a token and the API answers
    // Unauthenticated, as it does for the browser.
    if (isAPIError(err) && err.statusCode === 401) return undefined;
    throw err;
  }
}

const transport = createConnectTransport({
  baseUrl: tasksApiUrl(),
  httpVersion: "1.1",
  interceptors: [bearerToken(sessionToken)],
});

export const tasks = createClient(TaskService, transport);
