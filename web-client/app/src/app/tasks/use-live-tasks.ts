"use client";

import { createClient } from "@connectrpc/connect";
import { useTransport } from "@connectrpc/connect-query";
import { LocalTasks, TaskService, watchTasks } from "@example/tasks-client";
import { useEffect, useState } from "react";
import { errorMessage } from "@/lib/draft";
import { startLiveUpdate } from "@/lib/live-updates";
import { useInvalidateTaskLists } from "./invalidate";

/** Where the board's live updates stand. */
export type LiveTasks =
  | { status: "connecting" }
  /** Current: changes made elsewhere show within a moment. taskCount: all of the user's tasks. */
  | { status: "live"; taskCount: number }
  | { status: "reconnecting"; retryInMs: number }
  /** Retrying cannot help (signed out, say); a reload starts over. */
  | { status: "stopped"; error: string };

/**
 * Keeps the board's lists live: watches the user's tasks (watchTasks on the
 * app's one transport) and refetches every cached ListTasks page when a
 * change arrives, and whenever the watch has (re)connected and caught up, in
 * case something changed while it was away. The lists stay the server's
 * answers (filters, order, pages and totals), so they cannot drift from
 * them. A local copy of the tasks (LocalTasks) says when the watch is
 * current and how many tasks the user has in all.
 */
export function useLiveTasks(): LiveTasks {
  const transport = useTransport();
  const refetchLists = useInvalidateTaskLists();
  const [state, setState] = useState<LiveTasks>({ status: "connecting" });

  useEffect(() => {
    const live = startLiveUpdate(); // sign-out aborts it too
    const client = createClient(TaskService, transport);
    const local = new LocalTasks();
    void (async () => {
      try {
        for await (const event of watchTasks(client, { signal: live.signal, maxDelayMs: 10_000 })) {
          const wasCurrent = local.current;
          local.apply(event);
          // Catch-up changes are followed by "current": one refetch for both.
          if (event.type === "current" || (event.type === "changes" && wasCurrent)) void refetchLists();
          if (local.current) {
            setState({ status: "live", taskCount: local.tasks.size });
          } else if (event.type === "disconnected") {
            setState({ status: "reconnecting", retryInMs: event.retryInMs });
          } else if (event.type === "reset") {
            setState({ status: "connecting" });
          }
        }
      } catch (err) {
        setState({ status: "stopped", error: errorMessage(err) });
      } finally {
        live.abort();
      }
    })();
    return () => live.abort();
  }, [transport, refetchLists]);

  return state;
}
