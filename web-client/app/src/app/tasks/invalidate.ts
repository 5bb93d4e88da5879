"use client";

import { createConnectQueryKey } from "@connectrpc/connect-query";
import { TaskService } from "@example/tasks-client";
import { useQueryClient } from "@tanstack/react-query";
import { useCallback } from "react";

/** Marks every cached ListTasks page stale (all filters, paged or not), so lists refetch. */
export function useInvalidateTaskLists(): () => Promise<void> {
  const queryClient = useQueryClient();
  return useCallback(
    () =>
      queryClient.invalidateQueries({
        queryKey: createConnectQueryKey({ schema: TaskService.method.listTasks, cardinality: undefined }),
      }),
    [queryClient],
  );
}
