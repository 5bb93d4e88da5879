import "server-only";

/**
 * The Tasks API's base URL (TASKS_API_URL), read at run time so one build
 * serves any deployment. The browser gets it from the root layout; this
 * app's server code calls the same URL.
 */
export function tasksApiUrl(): string {
  return process.env.TASKS_API_URL ?? "http://localhost:8080";
}
