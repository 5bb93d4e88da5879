// @example/tasks-client: the generated tasks.v1 code plus a small typed
// client for the Tasks API (connect-es v2). See README.md.

// TaskService, every message and enum of tasks.v1, and their schemas.
export * from "./gen/tasks/v1/tasks_pb.js";

export {
  bearerToken,
  createTasksClient,
  createTasksTransport,
  type TasksTransportOptions,
  type TokenSource,
} from "./transport.js";
export {
  ERROR_DOMAIN,
  errorReason,
  fieldViolations,
  type ErrorReason,
  type FieldViolation,
} from "./errors.js";
export { ErrorInfoSchema, type ErrorInfo } from "./errorinfo.js";
export { fieldPathString } from "./fieldpath.js";
export { validate, type ValidationOutcome } from "./validate.js";
export {
  watchTasks,
  type TaskSyncClient,
  type TaskWatchEvent,
  type WatchTasksOptions,
} from "./watch.js";
export { backoffDelay, type Backoff } from "./backoff.js";
export { LocalTasks } from "./local-tasks.js";
