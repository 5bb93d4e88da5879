import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { backoffDelay, sleep, type Backoff } from "./backoff.js";
import { errorReason } from "./errors.js";
import type { TaskChange, TaskService } from "./gen/tasks/v1/tasks_pb.js";

/**
 * What watchTasks needs of a TaskService client: `createTasksClient(…)`, or
 * `createClient(TaskService, transport)` on the app's one transport.
 */
export type TaskSyncClient = Pick<Client<typeof TaskService>, "listTaskChanges" | "watchTasks">;

/** What {@link watchTasks} yields. */
export type TaskWatchEvent =
  /**
   * Changes to apply, oldest first: from the catch-up (a full sync when the
   * cursor was empty) or live. `cursor` is a safe place to resume from once
   * they are applied.
   */
  | { type: "changes"; changes: TaskChange[]; cursor: string }
  /**
   * Caught up: everything up to `cursor` has been yielded and the watch is
   * open, so further changes arrive as they are made. Comes after the first
   * connection and after every reconnection.
   */
  | { type: "current"; cursor: string }
  /**
   * The cursor expired (CURSOR_EXPIRED: deletions after it are forgotten).
   * Drop the local copy: a full sync follows, as from an empty cursor.
   */
  | { type: "reset"; error: ConnectError }
  /**
   * The connection failed or ended (network, server restart, token expiry,
   * WATCH_MAX_DURATION); the next attempt starts in `retryInMs`, from the
   * last cursor. `attempt` counts the failures since the last "current".
   */
  | { type: "disconnected"; error: ConnectError; attempt: number; retryInMs: number };

/** Options of {@link watchTasks}. */
export interface WatchTasksOptions extends Backoff {
  /** Where to start: a cursor from an earlier event, or empty (the default) for a full sync. */
  cursor?: string;
  /** Ends the watch: the iteration then finishes without an error. */
  signal?: AbortSignal;
  /**
   * A connection that has been silent for this long (no change, no
   * heartbeat) is taken for dead and replaced; also the deadline of each
   * ListTaskChanges page. Default 45000: three of the server's default
   * heartbeats (WATCH_HEARTBEAT, 15 s). 0 never.
   */
  idleTimeoutMs?: number;
  /** ListTaskChanges' page size while catching up; default 1000, the most the server sends. */
  pageSize?: number;
}

/**
 * Keeps up with the caller's tasks: yields the changes after `cursor`, then
 * each change as it is made, for as long as the iteration runs.
 *
 * Each (re)connection catches up with ListTaskChanges pages, then opens
 * WatchTasks from where they ended and yields "current" once the watch
 * answers. Whatever breaks the connection (the network, a server restart or
 * shutdown, WATCH_MAX_DURATION, TOO_MANY_WATCHES) yields "disconnected" and
 * retries from the last cursor after an exponential, capped, jittered wait,
 * so nothing is lost or repeated. When the token expires mid-watch it
 * reconnects at once: the transport's getToken is asked again, and should
 * return a fresh token. CURSOR_EXPIRED yields "reset" and continues with a
 * full sync.
 *
 * The iteration ends quietly when `signal` aborts (or the loop breaks), and
 * with the server's ConnectError when retrying cannot help: a cursor that is
 * not the caller's or was altered (InvalidArgument, INVALID_REQUEST), a
 * request the schema refuses, Unauthenticated twice in a row with no progress
 * in between (getToken has no valid token: signed out), Unimplemented.
 *
 * ```ts
 * const local = new LocalTasks();
 * for await (const event of watchTasks(client, { cursor: local.cursor, signal })) {
 *   local.apply(event);
 *   if (local.current) render([...local.tasks.values()]);
 * }
 * ```
 */
export async function* watchTasks(
  client: TaskSyncClient,
  options: WatchTasksOptions = {},
): AsyncGenerator<TaskWatchEvent, void, undefined> {
  const { signal, idleTimeoutMs = 45_000, pageSize = 1000 } = options;
  let cursor = options.cursor ?? "";
  let failures = 0; // since the last "current"
  let unauthenticated = false; // an Unauthenticated since the last answer

  while (!signal?.aborted) {
    // One connection: aborted when the caller's signal is, when it stays
    // silent for idleTimeoutMs, and when it is over (finally).
    const attempt = new AbortController();
    const abortAttempt = () => attempt.abort();
    signal?.addEventListener("abort", abortAttempt, { once: true });
    let idle: ReturnType<typeof setTimeout> | undefined;
    let idledOut = false;
    const stopIdle = () => clearTimeout(idle);
    const armIdle = () => {
      stopIdle();
      if (idleTimeoutMs > 0) {
        idle = setTimeout(() => {
          idledOut = true;
          attempt.abort();
        }, idleTimeoutMs);
      }
    };

    let error: ConnectError;
    try {
      // Catch up with pages: only they say when there is no more. A page
      // gets as long as a silent watch would.
      const timeoutMs = idleTimeoutMs > 0 ? idleTimeoutMs : undefined;
      for (let more = true; more; ) {
        const page = await orAbort(client.listTaskChanges({ cursor, pageSize }, { signal: attempt.signal, timeoutMs }), attempt.signal);
        unauthenticated = false;
        cursor = page.nextCursor;
        more = page.hasMore;
        if (page.changes.length > 0) yield { type: "changes", changes: page.changes, cursor };
      }
      // Then watch from there. The first message comes at once (with what
      // changed since the last page, or none): the watch is open.
      let first = true;
      armIdle();
      const messages = client.watchTasks({ cursor }, { signal: attempt.signal })[Symbol.asyncIterator]();
      let waiting = false; // for the stream's next message
      try {
        for (;;) {
          waiting = true;
          const next = await orAbort(messages.next(), attempt.signal);
          waiting = false;
          if (next.done) break;
          const message = next.value;
          stopIdle(); // the caller may take its time with what is yielded
          unauthenticated = false;
          if (message.cursor !== "") cursor = message.cursor;
          if (message.changes.length > 0) yield { type: "changes", changes: message.changes, cursor };
          if (first) {
            first = false;
            failures = 0;
            yield { type: "current", cursor };
          }
          armIdle();
        }
      } finally {
        // Closed as a for-await loop would close it; not waited for while
        // a read is still pending (it ends with the aborted connection).
        const closing = messages.return?.();
        if (!waiting) await closing;
        else closing?.catch(() => {});
      }
      // The server never ends a watch without an error; a proxy might.
      error = new ConnectError("the watch ended", Code.Unavailable);
    } catch (err) {
      if (signal?.aborted) return;
      error = idledOut
        ? new ConnectError(`no message for ${idleTimeoutMs} ms: the connection is taken for dead`, Code.DeadlineExceeded, undefined, undefined, err)
        : ConnectError.from(err);
    } finally {
      stopIdle();
      signal?.removeEventListener("abort", abortAttempt);
      attempt.abort(); // whatever is still open of this connection
    }

    if (errorReason(error) === "CURSOR_EXPIRED" && cursor !== "") {
      cursor = "";
      failures = 0;
      yield { type: "reset", error };
      continue;
    }
    if (error.code === Code.Unauthenticated) {
      // The token expired mid-watch: once, at once, with whatever getToken
      // gives now. Twice with nothing in between: there is no valid token.
      if (unauthenticated) throw error;
      unauthenticated = true;
      yield { type: "disconnected", error, attempt: ++failures, retryInMs: 0 };
      continue;
    }
    if (isFinal(error)) throw error;
    const retryInMs = backoffDelay(failures, options);
    yield { type: "disconnected", error, attempt: ++failures, retryInMs };
    await sleep(retryInMs, signal);
  }
}

/**
 * p, or a rejection with the signal's reason as soon as it aborts. The
 * transport is given the signal too, and ends the call; but a fetch that
 * misses an abort (undici has had such bugs: nodejs/undici#1940, #4089)
 * must not keep a watch from ending when its caller stops it.
 */
function orAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(err);
      },
    );
  });
}

/**
 * Whether retrying cannot help: the server refused the request itself (it
 * says so with its ErrorInfo; the client's own protocol errors about a
 * broken connection carry none), or it does not serve the method.
 */
function isFinal(error: ConnectError): boolean {
  switch (error.code) {
    case Code.Unimplemented:
      return true;
    case Code.InvalidArgument:
    case Code.NotFound:
    case Code.AlreadyExists:
    case Code.PermissionDenied:
    case Code.FailedPrecondition:
    case Code.OutOfRange:
      return errorReason(error) !== undefined;
    default:
      return false;
  }
}
