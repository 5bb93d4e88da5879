import { toJson } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { errorReason, ListTasksResponseSchema } from "@example/tasks-client";
import { tasks } from "../../../lib/tasks.server";

// A route handler that proxies ListTasks as plain JSON.
export async function GET(request: Request): Promise<Response> {
  const url = new URL(request.url);
  try {
    const res = await tasks.listTasks({
      pageSize: Number(url.searchParams.get("pageSize") ?? 20),
      pageToken: url.searchParams.get("pageToken") ?? "",
    });
    // toJson, not Response.json(res): messages may hold bigints and enums.
    return Response.json(toJson(ListTasksResponseSchema, res));
  } catch (err) {
    const e = ConnectError.from(err);
    const status = e.code === Code.Unauthenticated ? 401 : e.code === Code.InvalidArgument ? 400 : 502;
    return Response.json({ error: errorReason(e) ?? "UPSTREAM_ERROR" }, { status });
  }
}
