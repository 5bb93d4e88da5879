// Every RPC over every protocol against the real server: the happy paths,
// paging and filters, etags, and the errors a frontend switches on.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { promisify } from "node:util";
import { Code, ConnectError } from "@connectrpc/connect";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { describe, expect, inject, it } from "vitest";
import {
  errorReason,
  fieldViolations,
  Priority,
  TaskOrder,
  type ErrorReason,
  type Task,
} from "../src/index.js";
import {
  clientFor,
  clientWithToken,
  mintToken,
  mustFail,
  newUser,
  protocols,
  type TasksClient,
} from "./support.js";

const uuidV7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

async function expectError(
  call: () => Promise<unknown>,
  code: Code,
  reason: ErrorReason,
): Promise<ConnectError> {
  const err = await mustFail(call);
  expect(err).toBeInstanceOf(ConnectError);
  const connectErr = err as ConnectError;
  expect({ code: Code[connectErr.code], reason: errorReason(err) }).toEqual({
    code: Code[code],
    reason,
  });
  return connectErr;
}

async function createTasks(client: TasksClient, titles: string[]): Promise<Task[]> {
  const tasks: Task[] = [];
  for (const title of titles) {
    const { task } = await client.createTask({ title });
    tasks.push(task!);
  }
  return tasks;
}

async function listAll(
  client: TasksClient,
  request: Parameters<TasksClient["listTasks"]>[0],
): Promise<{ ids: string[]; pages: number; totals: number[] }> {
  const ids: string[] = [];
  const totals: number[] = [];
  let pageToken = "";
  let pages = 0;
  do {
    // The total is asked for once, on the first page, as API.md advises.
    const page = await client.listTasks({ ...request, pageToken, includeTotalSize: pageToken === "" });
    ids.push(...page.tasks.map((t) => t.id));
    totals.push(page.totalSize);
    pageToken = page.nextPageToken;
    pages++;
    expect(pages).toBeLessThan(50);
  } while (pageToken !== "");
  return { ids, pages, totals };
}

describe.each(Object.keys(protocols))("%s", (protocol) => {
  it("creates a task and reads it back", async () => {
    const client = clientFor(protocol, newUser("create"));
    const due = new Date("2030-01-02T03:04:05.678Z");
    const requestId = randomUUID();
    const { task } = await client.createTask({
      title: "  Plan the trip  ",
      description: "Flights\nHotels",
      priority: Priority.HIGH,
      tags: ["Work", "日本語"],
      dueTime: timestampFromDate(due),
      requestId,
    });
    expect(task).toBeDefined();
    expect(task!.id).toMatch(uuidV7);
    expect(task!.title).toBe("Plan the trip");
    expect(task!.description).toBe("Flights\nHotels");
    expect(task!.priority).toBe(Priority.HIGH);
    expect(task!.tags).toEqual(["work", "日本語"]);
    expect(task!.completed).toBe(false);
    expect(timestampDate(task!.dueTime!).toISOString()).toBe(due.toISOString());
    expect(task!.createTime).toBeDefined();
    expect(task!.updateTime).toBeDefined();
    expect(task!.completeTime).toBeUndefined();
    expect(task!.etag).not.toBe("");

    const got = await client.getTask({ id: task!.id });
    expect(got.task).toEqual(task);

    // The same request_id is a retry: it returns the first task, creates nothing.
    const retried = await client.createTask({ title: "Plan the trip", requestId });
    expect(retried.task).toEqual(task);
    expect((await client.listTasks({ includeTotalSize: true })).totalSize).toBe(1);
  });

  it("lists tasks page by page, filtered and ordered", async () => {
    const client = clientFor(protocol, newUser("list"));
    const tasks = await createTasks(client, ["alpha", "bravo", "charlie", "delta", "echo"]);
    const newestFirst = tasks.map((t) => t.id).reverse();

    const all = await listAll(client, { pageSize: 2 });
    expect(all.ids).toEqual(newestFirst);
    expect(all.pages).toBe(3);
    expect(all.totals).toEqual([5, 0, 0]);
    // Counted only when asked.
    expect((await client.listTasks({ pageSize: 2 })).totalSize).toBe(0);

    const oldestFirst = await listAll(client, {
      pageSize: 3,
      orderBy: TaskOrder.CREATE_TIME_ASC,
    });
    expect(oldestFirst.ids).toEqual(tasks.map((t) => t.id));

    // Give two tasks attributes to filter on.
    const [alpha, bravo] = tasks;
    await client.updateTask({
      id: alpha!.id,
      priority: Priority.HIGH,
      tags: { values: ["Home"] },
      dueTime: timestampFromDate(new Date("2030-06-01T00:00:00Z")),
    });
    await client.updateTask({
      id: bravo!.id,
      completed: true,
      description: "Buy MILK",
      dueTime: timestampFromDate(new Date("2030-07-01T00:00:00Z")),
    });

    const ids = async (request: Parameters<TasksClient["listTasks"]>[0]) =>
      (await listAll(client, { pageSize: 1, ...request })).ids;
    expect(await ids({ priority: Priority.HIGH })).toEqual([alpha!.id]);
    expect(await ids({ tag: "HOME" })).toEqual([alpha!.id]);
    expect(await ids({ completed: true })).toEqual([bravo!.id]);
    expect(await ids({ completed: false })).toHaveLength(4);
    expect(await ids({ query: "milk" })).toEqual([bravo!.id]);
    expect(await ids({ query: "RAV" })).toEqual([bravo!.id]);
    expect(await ids({ dueBefore: timestampFromDate(new Date("2030-06-15T00:00:00Z")) })).toEqual([
      alpha!.id,
    ]);
    expect(await ids({ dueAfter: timestampFromDate(new Date("2030-07-01T00:00:00Z")) })).toEqual([
      bravo!.id,
    ]);
    expect(
      await ids({ orderBy: TaskOrder.DUE_TIME_ASC }).then((list) => list.slice(0, 2)),
    ).toEqual([alpha!.id, bravo!.id]);
    expect(await ids({ orderBy: TaskOrder.TITLE_ASC })).toEqual(tasks.map((t) => t.id));
    const filtered = await client.listTasks({ pageSize: 1, completed: false, includeTotalSize: true });
    expect(filtered.totalSize).toBe(4);

    // A page token only works with the filters it was issued for.
    const first = await client.listTasks({ pageSize: 2 });
    await expectError(
      () => client.listTasks({ pageSize: 2, pageToken: first.nextPageToken, tag: "home" }),
      Code.InvalidArgument,
      "INVALID_REQUEST",
    );
    await expectError(
      () => client.listTasks({ pageToken: `${first.nextPageToken}x` }),
      Code.InvalidArgument,
      "INVALID_REQUEST",
    );
  });

  it("updates only the fields present, guarded by the etag", async () => {
    const client = clientFor(protocol, newUser("update"));
    const { task: created } = await client.createTask({
      title: "Draft",
      description: "keep me",
      tags: ["a", "b"],
      dueTime: timestampFromDate(new Date("2031-01-01T00:00:00Z")),
    });

    const { task: renamed } = await client.updateTask({
      id: created!.id,
      title: "Final",
      etag: created!.etag,
    });
    expect(renamed!.title).toBe("Final");
    expect(renamed!.description).toBe("keep me");
    expect(renamed!.tags).toEqual(["a", "b"]);
    expect(renamed!.etag).not.toBe(created!.etag);

    // The old etag is stale now: Aborted, and nothing changes.
    await expectError(
      () => client.updateTask({ id: created!.id, title: "Lost update", etag: created!.etag }),
      Code.Aborted,
      "ETAG_MISMATCH",
    );
    expect((await client.getTask({ id: created!.id })).task).toEqual(renamed);

    const { task: done } = await client.updateTask({ id: created!.id, completed: true });
    expect(done!.completed).toBe(true);
    expect(done!.completeTime).toBeDefined();
    const { task: reopened } = await client.updateTask({ id: created!.id, completed: false });
    expect(reopened!.completeTime).toBeUndefined();

    const { task: cleared } = await client.updateTask({
      id: created!.id,
      tags: {},
      clearDueTime: true,
      priority: Priority.LOW,
    });
    expect(cleared!.tags).toEqual([]);
    expect(cleared!.dueTime).toBeUndefined();
    expect(cleared!.priority).toBe(Priority.LOW);
    expect((await client.getTask({ id: created!.id })).task).toEqual(cleared);

    // A request with nothing to change is a request error, not a schema one.
    const nothing = await expectError(
      () => client.updateTask({ id: created!.id }),
      Code.InvalidArgument,
      "INVALID_REQUEST",
    );
    expect(fieldViolations(nothing)).toEqual([]);

    await expectError(
      () => client.updateTask({ id: randomUUID(), title: "x" }),
      Code.NotFound,
      "NOT_FOUND",
    );
  });

  it("deletes a task, guarded by the etag", async () => {
    const client = clientFor(protocol, newUser("delete"));
    const { task } = await client.createTask({ title: "Temporary" });
    const { task: changed } = await client.updateTask({ id: task!.id, title: "Changed" });

    await expectError(
      () => client.deleteTask({ id: task!.id, etag: task!.etag }),
      Code.Aborted,
      "ETAG_MISMATCH",
    );
    await client.deleteTask({ id: task!.id, etag: changed!.etag });
    await expectError(() => client.getTask({ id: task!.id }), Code.NotFound, "NOT_FOUND");
    await expectError(() => client.deleteTask({ id: task!.id }), Code.NotFound, "NOT_FOUND");
  });

  it("answers NotFound for another user's task in every RPC", async () => {
    const owner = clientFor(protocol, newUser("owner"));
    const other = clientFor(protocol, newUser("other"));
    const { task } = await owner.createTask({ title: "Mine", tags: ["secret"] });
    const id = task!.id;

    await expectError(() => other.getTask({ id }), Code.NotFound, "NOT_FOUND");
    await expectError(() => other.updateTask({ id, title: "Yours" }), Code.NotFound, "NOT_FOUND");
    await expectError(() => other.deleteTask({ id }), Code.NotFound, "NOT_FOUND");
    expect(await other.listTasks({ tag: "secret", includeTotalSize: true })).toMatchObject({ tasks: [], totalSize: 0 });
    // A missing task answers the same way.
    await expectError(() => other.getTask({ id: randomUUID() }), Code.NotFound, "NOT_FOUND");
    expect((await owner.getTask({ id })).task).toEqual(task);
  });

  it("answers Unauthenticated without a valid token", async () => {
    const user = newUser("auth");
    const tokens: Record<string, string | undefined> = {
      "no token": undefined,
      "an empty token": "",
      "a malformed token": "not-a-jwt",
      "a token signed with another secret": mintToken(user, { secret: "0".repeat(64) }),
      "an expired token": mintToken(user, { ttlSeconds: -3600 }),
    };
    for (const [name, token] of Object.entries(tokens)) {
      const client = clientWithToken(protocol, () => token);
      const err = await expectError(
        () => client.listTasks({}),
        Code.Unauthenticated,
        "UNAUTHORIZED",
      ).catch((e: unknown) => {
        throw new Error(`${name}: ${String(e)}`);
      });
      if (name === "an expired token") {
        expect(err.rawMessage).toContain("token expired");
      }
    }
  });

  it("reads the token on every call", async () => {
    const tokens = [mintToken(newUser("first")), mintToken(newUser("second"))];
    let calls = 0;
    const client = clientWithToken(protocol, async () => tokens[calls++ % 2]);
    const { task } = await client.createTask({ title: "first user's" });
    // Second call carries the second user's token: the task is not theirs.
    await expectError(() => client.getTask({ id: task!.id }), Code.NotFound, "NOT_FOUND");
    expect(calls).toBe(2);
  });

  it("reports schema violations with VALIDATION_ERROR and the fields", async () => {
    const client = clientFor(protocol, newUser("invalid"));
    const err = await expectError(
      () => client.createTask({ title: "", priority: 9 as Priority, tags: ["ok", "bad tag"] }),
      Code.InvalidArgument,
      "VALIDATION_ERROR",
    );
    expect(fieldViolations(err)).toEqual([
      { field: "title", rule: "required", message: expect.any(String) },
      { field: "priority", rule: "enum.defined_only", message: expect.any(String) },
      { field: "tags[1]", rule: "string.pattern", message: expect.any(String) },
    ]);
    for (const v of fieldViolations(err)) {
      expect(v.message).not.toBe("");
    }
    // Duplicate tags are a server rule, not a schema one: INVALID_REQUEST,
    // with a violation naming the field (no rule id), so a form shows it
    // beside the tags.
    const duplicate = await expectError(
      () => client.createTask({ title: "t", tags: ["Work", "work"] }),
      Code.InvalidArgument,
      "INVALID_REQUEST",
    );
    expect(fieldViolations(duplicate)).toEqual([
      { field: "tags", rule: "", message: 'tag "work" appears more than once' },
    ]);
    const task = (await client.createTask({ title: "t" })).task!;
    const duplicateUpdate = await expectError(
      () => client.updateTask({ id: task.id, tags: { values: ["Work", "work"] } }),
      Code.InvalidArgument,
      "INVALID_REQUEST",
    );
    expect(fieldViolations(duplicateUpdate)).toEqual([
      { field: "tags.values", rule: "", message: 'tag "work" appears more than once' },
    ]);
  });
});

describe("tasksd token", () => {
  it("mints a token the server accepts", async () => {
    const user = newUser("cli");
    const { stdout } = await promisify(execFile)(
      inject("tasksd"),
      ["token", "-sub", user, "-ttl", "1h"],
      { env: inject("tasksdEnv") },
    );
    const client = clientWithToken("Connect JSON", () => stdout.trim());
    const { task } = await client.createTask({ title: "from the CLI's token" });
    // Same user as a token minted here: the task is visible to both.
    expect((await clientFor("gRPC", user).getTask({ id: task!.id })).task).toEqual(task);
  });
});
