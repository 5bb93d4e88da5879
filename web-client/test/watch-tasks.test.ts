// watchTasks and LocalTasks against a scripted client: the paths a real
// server cannot be made to take on demand (CURSOR_EXPIRED on the second
// connection, a silent dead connection, a protocol error mid-stream), and
// the exact backoff. test/sync.test.ts runs them against the real server.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import {
  backoffDelay,
  ErrorInfoSchema,
  ListTaskChangesResponseSchema,
  LocalTasks,
  TaskChangeSchema,
  TaskSchema,
  watchTasks,
  WatchTasksResponseSchema,
  type ListTaskChangesRequest,
  type ListTaskChangesResponse,
  type TaskChange,
  type TaskSyncClient,
  type TaskWatchEvent,
  type WatchTasksOptions,
  type WatchTasksResponse,
} from "../src/index.js";

function serverError(code: Code, reason: string, message = reason.toLowerCase()): ConnectError {
  return new ConnectError(message, code, undefined, [
    { desc: ErrorInfoSchema, value: { reason, domain: "tasks.v1" } },
  ]);
}

const upsert = (id: string, title = id): TaskChange =>
  create(TaskChangeSchema, { change: { case: "task", value: create(TaskSchema, { id, title }) } });
const deletion = (id: string): TaskChange => create(TaskChangeSchema, { change: { case: "deletedTaskId", value: id } });

const page = (changes: TaskChange[], nextCursor: string, hasMore = false): ListTaskChangesResponse =>
  create(ListTaskChangesResponseSchema, { changes, nextCursor, hasMore });
const message = (changes: TaskChange[], cursor: string): WatchTasksResponse =>
  create(WatchTasksResponseSchema, { changes, cursor });

/** How one WatchTasks call goes: these messages, then this error, or open until aborted. */
interface Watch {
  messages: WatchTasksResponse[];
  end?: ConnectError;
}

type Answer = ListTaskChangesResponse | ConnectError;

/**
 * A client that answers ListTaskChanges with pages[cursor] (or the error
 * under that cursor; a list of answers is given in turn, the last one
 * again and again) and WatchTasks with the next of watches. It records
 * every call and whether each watch was closed.
 */
function scriptedClient(script: {
  pages: Record<string, Answer | Answer[]>;
  watches: Watch[];
}) {
  const calls: string[] = [];
  const closed: boolean[] = [];
  const client: TaskSyncClient = {
    async listTaskChanges(req) {
      const { cursor } = req as ListTaskChangesRequest;
      calls.push(`list ${cursor}`);
      const answers = script.pages[cursor];
      const answer = Array.isArray(answers) ? (answers.length > 1 ? answers.shift() : answers[0]) : answers;
      if (answer === undefined) throw new Error(`no page for cursor ${JSON.stringify(cursor)}`);
      if (answer instanceof ConnectError) throw answer;
      return answer;
    },
    watchTasks(req, options) {
      const { cursor } = req as { cursor: string };
      calls.push(`watch ${cursor}`);
      const watch = script.watches.shift() ?? { messages: [] };
      const index = closed.push(false) - 1;
      const signal = options?.signal;
      return (async function* () {
        try {
          for (const m of watch.messages) yield m;
          if (watch.end) throw watch.end;
          await new Promise<never>((_, reject) => {
            if (signal?.aborted) reject(new ConnectError("aborted", Code.Canceled));
            signal?.addEventListener("abort", () => reject(new ConnectError("aborted", Code.Canceled)));
          });
        } finally {
          closed[index] = true;
        }
      })();
    },
  };
  return { client, calls, closed };
}

/** Runs watchTasks until stop says so (or it ends) and returns what it yielded. */
async function run(
  client: TaskSyncClient,
  options: WatchTasksOptions,
  stop: (events: TaskWatchEvent[]) => boolean,
): Promise<TaskWatchEvent[]> {
  const events: TaskWatchEvent[] = [];
  const controller = new AbortController();
  for await (const event of watchTasks(client, { initialDelayMs: 4, maxDelayMs: 16, ...options, signal: controller.signal })) {
    events.push(event);
    if (stop(events)) controller.abort();
  }
  return events;
}

const types = (events: TaskWatchEvent[]) => events.map((e) => e.type);
const currentCount = (n: number) => (events: TaskWatchEvent[]) => events.filter((e) => e.type === "current").length >= n;

describe("watchTasks", () => {
  it("catches up page by page, then watches from the last page's cursor", async () => {
    const { client, calls } = scriptedClient({
      pages: { "": page([upsert("a")], "c1", true), c1: page([upsert("b")], "c2") },
      watches: [{ messages: [message([upsert("c")], "c3"), message([], "c3"), message([deletion("a")], "c4")] }],
    });
    const events = await run(client, {}, (e) => e.length === 5);
    expect(events).toEqual([
      { type: "changes", changes: [upsert("a")], cursor: "c1" },
      { type: "changes", changes: [upsert("b")], cursor: "c2" },
      { type: "changes", changes: [upsert("c")], cursor: "c3" },
      { type: "current", cursor: "c3" },
      // The heartbeat (no changes) yields nothing.
      { type: "changes", changes: [deletion("a")], cursor: "c4" },
    ]);
    expect(calls).toEqual(["list ", "list c1", "watch c2"]);
  });

  it("reconnects from the last cursor with capped, jittered, growing waits, and starts over after current", async () => {
    const down = new ConnectError("fetch failed", Code.Unknown);
    const { client, calls } = scriptedClient({
      pages: { start: page([], "c1"), c1: page([], "c1"), c2: page([], "c2") },
      watches: [
        { messages: [message([], "c1")], end: serverError(Code.Unavailable, "SERVICE_UNAVAILABLE") },
        { messages: [], end: down },
        { messages: [], end: down },
        { messages: [], end: down },
        { messages: [], end: down },
        { messages: [message([upsert("x")], "c2")], end: down },
        { messages: [message([], "c2")] },
      ],
    });
    const events = await run(client, { cursor: "start" }, currentCount(3));
    const waits = events.flatMap((e) => (e.type === "disconnected" ? [[e.attempt, e.retryInMs] as const] : []));
    expect(waits.map(([attempt]) => attempt)).toEqual([1, 2, 3, 4, 5, 1]);
    // Ceilings 4, 8, 16, 16 (capped), 16, then 4 again after "current"; each wait in [ceiling/2, ceiling].
    const ceilings = [4, 8, 16, 16, 16, 4];
    waits.forEach(([, ms], i) => {
      expect(ms).toBeGreaterThanOrEqual(ceilings[i]! / 2);
      expect(ms).toBeLessThanOrEqual(ceilings[i]!);
    });
    expect(calls.filter((c) => c.startsWith("watch"))).toEqual([
      "watch c1", "watch c1", "watch c1", "watch c1", "watch c1", "watch c1", "watch c2",
    ]);
    expect(types(events).filter((t) => t !== "disconnected")).toEqual(["current", "changes", "current", "current"]);
  });

  it("resets on CURSOR_EXPIRED and continues with a full sync", async () => {
    const expired = serverError(Code.FailedPrecondition, "CURSOR_EXPIRED", "the cursor has expired");
    const { client, calls } = scriptedClient({
      pages: { old: page([upsert("a")], "c1"), c1: expired, "": page([upsert("b")], "f1") },
      watches: [{ messages: [message([], "c1")], end: serverError(Code.Unavailable, "SERVICE_UNAVAILABLE") }, { messages: [message([], "f1")] }],
    });
    const local = new LocalTasks();
    const events = await run(client, { cursor: "old" }, (e) => {
      local.apply(e.at(-1)!);
      return currentCount(2)(e);
    });
    expect(types(events)).toEqual(["changes", "current", "disconnected", "reset", "changes", "current"]);
    expect(calls).toEqual(["list old", "watch c1", "list c1", "list ", "watch f1"]);
    expect([...local.tasks.keys()]).toEqual(["b"]);
    expect(local.cursor).toBe("f1");
  });

  it("ends with the error when even an empty cursor is expired", async () => {
    const expired = serverError(Code.FailedPrecondition, "CURSOR_EXPIRED");
    const { client } = scriptedClient({ pages: { old: expired, "": expired }, watches: [] });
    const events: TaskWatchEvent[] = [];
    const err = await (async () => {
      try {
        for await (const e of watchTasks(client, { cursor: "old" })) events.push(e);
      } catch (err) {
        return err;
      }
    })();
    expect(types(events)).toEqual(["reset"]);
    expect(err).toBe(expired);
  });

  it("reconnects at once when the token expires mid-watch, and gives up when the next attempt is refused too", async () => {
    const expiredToken = serverError(Code.Unauthenticated, "UNAUTHORIZED", "token expired");
    const { client, calls } = scriptedClient({
      // The second reconnection finds no valid token: its first call is refused.
      pages: { c0: page([], "c1"), c1: [page([], "c1"), expiredToken] },
      watches: [
        { messages: [message([], "c1")], end: expiredToken },
        { messages: [message([], "c1")], end: expiredToken },
      ],
    });
    const events: TaskWatchEvent[] = [];
    let err: unknown;
    try {
      for await (const e of watchTasks(client, { cursor: "c0" })) events.push(e);
    } catch (e) {
      err = e;
    }
    expect(types(events)).toEqual(["current", "disconnected", "current", "disconnected"]);
    expect(events.flatMap((e) => (e.type === "disconnected" ? [e.retryInMs] : []))).toEqual([0, 0]);
    expect(calls).toEqual(["list c0", "watch c1", "list c1", "watch c1", "list c1"]);
    expect(err).toBe(expiredToken);
  });

  it("ends with the server's InvalidArgument, but retries a protocol error about a broken stream", async () => {
    const invalid = serverError(Code.InvalidArgument, "INVALID_REQUEST", "invalid cursor");
    const broken = new ConnectError("protocol error: incomplete envelope", Code.InvalidArgument);
    const { client, calls } = scriptedClient({
      pages: { c0: page([], "c0"), bad: invalid },
      watches: [{ messages: [message([], "c0")], end: broken }, { messages: [message([], "c0")] }],
    });
    const events = await run(client, { cursor: "c0" }, currentCount(2));
    expect(types(events)).toEqual(["current", "disconnected", "current"]);
    expect(calls).toEqual(["list c0", "watch c0", "list c0", "watch c0"]);

    await expect(run(client, { cursor: "bad" }, () => false)).rejects.toBe(invalid);
  });

  it("replaces a connection that stays silent for idleTimeoutMs", async () => {
    const { client, calls, closed } = scriptedClient({
      pages: { c0: page([], "c0") },
      watches: [{ messages: [message([], "c0")] }, { messages: [message([], "c0")] }],
    });
    const events = await run(client, { cursor: "c0", idleTimeoutMs: 30 }, currentCount(2));
    expect(types(events)).toEqual(["current", "disconnected", "current"]);
    const dropped = events[1] as Extract<TaskWatchEvent, { type: "disconnected" }>;
    expect(dropped.error.code).toBe(Code.DeadlineExceeded);
    expect(calls).toEqual(["list c0", "watch c0", "list c0", "watch c0"]);
    expect(closed).toEqual([true, true]);
  });

  it("stops at once when aborted while waiting to reconnect", async () => {
    const { client } = scriptedClient({
      pages: { c0: serverError(Code.Unavailable, "SERVICE_UNAVAILABLE") },
      watches: [],
    });
    const started = Date.now();
    const events = await run(client, { cursor: "c0", initialDelayMs: 60_000, maxDelayMs: 60_000 }, (e) => e.length === 1);
    expect(types(events)).toEqual(["disconnected"]);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("ends when aborted even if the transport never settles the call it was given the signal for", async () => {
    const never = new Promise<never>(() => {});
    const deaf = (watching: boolean): TaskSyncClient => ({
      listTaskChanges: async () => (watching ? page([], "c0") : never),
      watchTasks: () =>
        (async function* () {
          yield message([], "c0");
          await never; // as a fetch that misses the abort
        })(),
    });
    for (const watching of [false, true]) {
      const controller = new AbortController();
      const events: TaskWatchEvent[] = [];
      const done = (async () => {
        for await (const event of watchTasks(deaf(watching), { cursor: "c0", signal: controller.signal })) events.push(event);
      })();
      await new Promise((resolve) => setTimeout(resolve, 20));
      controller.abort();
      const ended = await Promise.race([done.then(() => true), new Promise((resolve) => setTimeout(resolve, 2_000, false))]);
      expect(ended, watching ? "aborted while watching" : "aborted while catching up").toBe(true);
      expect(types(events)).toEqual(watching ? ["current"] : []);
    }
  });

  it("closes the watch when the loop breaks", async () => {
    const { client, closed } = scriptedClient({ pages: { c0: page([], "c0") }, watches: [{ messages: [message([], "c0")] }] });
    for await (const event of watchTasks(client, { cursor: "c0" })) {
      if (event.type === "current") break;
    }
    expect(closed).toEqual([true]);
  });
});

describe("backoffDelay", () => {
  it("doubles from initialDelayMs up to maxDelayMs, jittered into the upper half", () => {
    const o = { initialDelayMs: 100, maxDelayMs: 1000 };
    expect([0, 1, 2, 3, 4, 50].map((n) => backoffDelay(n, o, () => 0))).toEqual([50, 100, 200, 400, 500, 500]);
    expect([0, 1, 2, 3, 4, 50].map((n) => backoffDelay(n, o, () => 1))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(backoffDelay(0)).toBeGreaterThanOrEqual(500);
    expect(backoffDelay(100)).toBeLessThanOrEqual(30_000);
  });
});

describe("LocalTasks", () => {
  it("applies a full sync, then increments, and says when it is current", () => {
    const local = new LocalTasks();
    expect(local.current).toBe(false);
    expect(local.apply({ type: "changes", changes: [upsert("a", "A"), upsert("b", "B")], cursor: "c1" })).toBe(true);
    expect(local.current).toBe(false);
    expect(local.apply({ type: "current", cursor: "c1" })).toBe(false);
    expect(local.current).toBe(true);
    local.apply({ type: "changes", changes: [upsert("a", "A2"), deletion("b"), deletion("never-seen")], cursor: "c2" });
    expect([...local.tasks.values()].map((t) => t.title)).toEqual(["A2"]);
    expect(local.cursor).toBe("c2");
    expect(local.current).toBe(true);
    expect(local.apply({ type: "changes", changes: [deletion("never-seen")], cursor: "c3" })).toBe(false);

    local.apply({ type: "disconnected", error: new ConnectError("down", Code.Unavailable), attempt: 1, retryInMs: 10 });
    expect(local.current).toBe(false);
    expect(local.cursor).toBe("c3");

    expect(local.apply({ type: "reset", error: serverError(Code.FailedPrecondition, "CURSOR_EXPIRED") })).toBe(true);
    expect(local.tasks.size).toBe(0);
    expect(local.cursor).toBe("");
    expect(local.current).toBe(false);
  });

  it("applies ListTaskChanges pages, current after the last one", () => {
    const local = new LocalTasks();
    local.applyPage(page([upsert("a")], "p1", true));
    expect(local.current).toBe(false);
    local.applyPage(page([upsert("b")], "p2"));
    expect(local.current).toBe(true);
    expect(local.cursor).toBe("p2");
    expect([...local.tasks.keys()]).toEqual(["a", "b"]);
  });
});
