// What the client puts on the wire, seen through a recording fetch: the
// Connect protocol sends the side-effect-free RPCs (GetTask, ListTasks) as
// HTTP GET, so browsers and CDNs may cache them, and everything else as POST;
// the Authorization header is there exactly when there is a token.
import { describe, expect, it } from "vitest";
import { createTasksClient } from "../src/index.js";
import { baseUrl, mintToken, newUser } from "./support.js";

type Seen = { method: string; url: URL; authorization: string | null };

function recordingFetch(seen: Seen[]): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init);
    seen.push({
      method: request.method,
      url: new URL(request.url),
      authorization: request.headers.get("Authorization"),
    });
    return fetch(request);
  };
}

describe.each([false, true])("Connect (binary: %s)", (binary) => {
  it("sends GetTask and ListTasks as GET, the rest as POST", async () => {
    const seen: Seen[] = [];
    const token = mintToken(newUser("get"));
    const client = createTasksClient({
      baseUrl,
      getToken: () => token,
      protocol: "connect",
      binary,
      fetch: recordingFetch(seen),
    });

    const { task } = await client.createTask({ title: "cacheable" });
    const got = await client.getTask({ id: task!.id });
    expect(got.task).toEqual(task);
    const listed = await client.listTasks({ pageSize: 10 });
    expect(listed.tasks).toEqual([task]);
    await client.deleteTask({ id: task!.id });

    expect(seen.map((s) => `${s.method} ${s.url.pathname}`)).toEqual([
      "POST /tasks.v1.TaskService/CreateTask",
      "GET /tasks.v1.TaskService/GetTask",
      "GET /tasks.v1.TaskService/ListTasks",
      "POST /tasks.v1.TaskService/DeleteTask",
    ]);
    const get = seen[1]!.url.searchParams;
    expect(get.get("connect")).toBe("v1");
    expect(get.get("encoding")).toBe(binary ? "proto" : "json");
    expect(get.get("message")).not.toBeNull();
    expect(seen.every((s) => s.authorization === `Bearer ${token}`)).toBe(true);
  });
});

describe("the bearer token interceptor", () => {
  it.each([undefined, null, ""])("sends no Authorization header for %j", async (token) => {
    const seen: Seen[] = [];
    const client = createTasksClient({
      baseUrl,
      getToken: async () => token,
      protocol: "grpc-web",
      fetch: recordingFetch(seen),
    });
    await expect(client.listTasks({})).rejects.toThrow(/unauthenticated/i);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.authorization).toBeNull();
  });
});
