import { toJson } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { errorReason, ListTasksResponseSchema } from "@example/tasks-client";
import { tasks } from "@/lib/tasks.server";

// A route handler that proxies ListTasks as plain JSON, as the signed-in
// user (src/lib/tasks.server.ts): GET /api/tasks?pageSize=20&pageToken=…
// The first page (no pageToken) carries totalSize; later pages do not, as
// the API asks: counting costs as much as a page, so it is done once.
export async function GET(request: Request): Promise<Response> {
  const url = new URL(request.url);
  const pageSize = Number(url.searchParams.get("pageSize") ?? 20);
  if (!Number.isInteger(pageSize)) {
    return Response.json({ error: "INVALID_REQUEST" }, { status: 400 }); // not a number the API could take
  }
  try {
    const pageToken = url.searchParams.get("pageToken") ?? "";
    const res = await tasks.listTasks({ pageSize, pageToken, includeTotalSize: pageToken === "" });
    // toJson, not Response.json(res): messages may hold bigints and enums.
    return Response.json(toJson(ListTasksResponseSchema, res));
  } catch (err) {
    const e = ConnectError.from(err);
    const status = e.code === Code.Unauthenticated ? 401 : e.code === Code.InvalidArgument ? 400 : 502;
    return Response.json({ error: errorReason(e) ?? "UPSTREAM_ERROR" }, { status });
  }
}
