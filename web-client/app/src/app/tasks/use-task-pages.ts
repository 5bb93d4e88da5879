"use client";

import type { MessageInitShape } from "@bufbuild/protobuf";
import { callUnaryMethod, createInfiniteQueryOptions, skipToken, useTransport } from "@connectrpc/connect-query";
import { ListTasksRequestSchema, TaskService, type ListTasksRequest } from "@example/tasks-client";
import { useInfiniteQuery, type SkipToken } from "@tanstack/react-query";

/** A ListTasks request (its fields, not a message) without what paging decides: the page token and whether to count. */
export type TaskListRequest = Omit<
  Exclude<MessageInitShape<typeof ListTasksRequestSchema>, ListTasksRequest>,
  "$typeName" | "pageToken" | "includeTotalSize"
>;

/**
 * The tasks matching request, page by page on next_page_token, with the
 * total on the first page: only its request sets include_total_size, since
 * counting costs the server as much as a page (API.md), so read the total
 * from pages[0].totalSize; later pages carry 0.
 *
 * It is connect-query's useInfiniteQuery(listTasks, { ...request, pageToken:
 * "", includeTotalSize: true }, { pageParamKey: "pageToken", … }), except
 * for the request each page sends. connect-query sends the input with only
 * the page param replaced, so every page would count; here its query key,
 * page params and structural sharing (createInfiniteQueryOptions) are kept
 * and the query function is this one. The key is connect-query's own (so
 * invalidating ListTasks, as useInvalidateTaskLists does, reaches it), and
 * holds includeTotalSize, so these pages never share a cache entry with a
 * list that has no total.
 */
export function useTaskPages(request: TaskListRequest | SkipToken) {
  const transport = useTransport();
  const method = TaskService.method.listTasks;
  const input = request === skipToken ? skipToken : { ...request, pageToken: "", includeTotalSize: true };
  const options = createInfiniteQueryOptions(method, input, {
    transport,
    pageParamKey: "pageToken",
    getNextPageParam: (page) => page.nextPageToken || undefined,
  });
  return useInfiniteQuery({
    ...options,
    queryFn:
      input === skipToken
        ? skipToken
        : ({ pageParam, signal }) =>
            callUnaryMethod(transport, method, { ...input, pageToken: pageParam, includeTotalSize: pageParam === "" }, { signal }),
  });
}
