"use client";

import { skipToken } from "@connectrpc/connect-query";
import {
  errorReason,
  ListTasksRequestSchema,
  Priority,
  TaskOrder,
  validate,
} from "@example/tasks-client";
import { useEffect, useState } from "react";
import { errorMessage } from "@/lib/draft";
import { FieldError, priorityNames } from "./task-fields";
import { TaskItem } from "./task-item";
import { useLiveTasks, type LiveTasks } from "./use-live-tasks";
import { useTaskPages } from "./use-task-pages";

type Status = "all" | "open" | "done";

const orders: [TaskOrder, string][] = [
  [TaskOrder.CREATE_TIME_DESC, "Newest first"],
  [TaskOrder.CREATE_TIME_ASC, "Oldest first"],
  [TaskOrder.UPDATE_TIME_DESC, "Recently changed"],
  [TaskOrder.DUE_TIME_ASC, "Due soonest"],
  [TaskOrder.PRIORITY_DESC, "Highest priority"],
  [TaskOrder.TITLE_ASC, "Title A–Z"],
];

/** value, but only once it has stopped changing for ms: typing is not a request per key. */
function useSettled<T>(value: T, ms = 300): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

/** The list: filters, order, the tasks page by page, and "load more"; live. */
export function TaskBoard() {
  const live = useLiveTasks();
  const [status, setStatus] = useState<Status>("all");
  const [priority, setPriority] = useState<Priority>(Priority.UNSPECIFIED);
  const [tagText, setTag] = useState("");
  const [queryText, setQuery] = useState("");
  const [orderBy, setOrderBy] = useState<TaskOrder>(TaskOrder.CREATE_TIME_DESC);
  const [pageSize, setPageSize] = useState(10);
  const tag = useSettled(tagText.trim());
  const query = useSettled(queryText);

  const request = {
    pageSize,
    completed: status === "all" ? undefined : status === "done",
    priority,
    tag,
    query,
    orderBy,
  };
  // A filter the server would reject is shown next to its input and not sent.
  const checked = validate(ListTasksRequestSchema, request);
  const filterErrors = errorsByFilter(checked.violations);

  const list = useTaskPages(checked.valid ? request : skipToken);

  const pages = list.data?.pages ?? [];
  const tasks = pages.flatMap((page) => page.tasks);
  const total = pages[0]?.totalSize; // only the first page asks for it
  // Nothing listed: the user has no tasks at all when nothing is filtered
  // out, or when the live copy of all their tasks is empty.
  const filtered = request.completed !== undefined || priority !== Priority.UNSPECIFIED || tag !== "" || query !== "";
  const noTasksAtAll = !filtered || (live.status === "live" && live.taskCount === 0);

  return (
    <section className="card board" aria-label="Tasks">
      <form className="filters" aria-label="Filters" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor="filter-status">Show</label>
          <select id="filter-status" value={status} onChange={(e) => setStatus(e.target.value as Status)}>
            <option value="all">All</option>
            <option value="open">Open</option>
            <option value="done">Completed</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="filter-priority">Priority</label>
          <select
            id="filter-priority"
            value={priority}
            onChange={(e) => setPriority(Number(e.target.value) as Priority)}
          >
            {Object.entries(priorityNames).map(([value, name]) => (
              <option key={value} value={value}>
                {Number(value) === Priority.UNSPECIFIED ? "Any" : name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="filter-tag">Tag</label>
          <input id="filter-tag" value={tagText} onChange={(e) => setTag(e.target.value)} />
          <FieldError id="filter-tag-error" messages={filterErrors.tag} />
        </div>
        <div className="field">
          <label htmlFor="filter-query">Search</label>
          <input id="filter-query" type="search" value={queryText} onChange={(e) => setQuery(e.target.value)} />
          <FieldError id="filter-query-error" messages={filterErrors.query} />
        </div>
        <div className="field">
          <label htmlFor="filter-order">Order</label>
          <select id="filter-order" value={orderBy} onChange={(e) => setOrderBy(Number(e.target.value) as TaskOrder)}>
            {orders.map(([value, name]) => (
              <option key={value} value={value}>
                {name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="filter-page-size">Per page</label>
          <select id="filter-page-size" value={pageSize} onChange={(e) => setPageSize(Number(e.target.value))}>
            {[5, 10, 25, 50].map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </div>
      </form>

      <div className="summary-row">
        <p className="summary" data-testid="task-count" aria-live="polite">
          {total === undefined ? (list.isFetching ? "Loading…" : "") : `${total} ${total === 1 ? "task" : "tasks"}`}
        </p>
        <LiveStatus live={live} />
      </div>
      {list.error ? (
        <p className="error" role="alert">
          {errorReason(list.error) === "SERVICE_UNAVAILABLE"
            ? "The task service is unavailable right now. Try again in a moment."
            : errorMessage(list.error)}
        </p>
      ) : null}
      {list.isSuccess && tasks.length === 0 ? (
        noTasksAtAll ? (
          <p className="welcome" data-testid="no-tasks">
            Welcome! You have no tasks yet. Add your first one with the form above.
          </p>
        ) : (
          <p className="muted">No tasks match.</p>
        )
      ) : null}
      {/* tabIndex -1: focus lands here when the last task on it is deleted. */}
      <ul className="task-list" aria-label="Task list" tabIndex={-1}>
        {tasks.map((task) => (
          <TaskItem key={task.id} task={task} />
        ))}
      </ul>
      {list.hasNextPage ? (
        <button
          type="button"
          className="secondary"
          disabled={list.isFetchingNextPage}
          onClick={() => void list.fetchNextPage()}
        >
          {list.isFetchingNextPage ? "Loading…" : "Load more"}
        </button>
      ) : null}
    </section>
  );
}

/** Whether changes made elsewhere show up by themselves right now. */
function LiveStatus({ live }: { live: LiveTasks }) {
  const text = {
    connecting: "Connecting…",
    live: "Live",
    reconnecting: "Reconnecting…",
    stopped: "Live updates stopped",
  }[live.status];
  return (
    <p
      className={`live-status ${live.status}`}
      data-testid="live-status"
      data-status={live.status}
      role="status"
      title={live.status === "stopped" ? `${live.error}. Reload the page to try again.` : undefined}
    >
      {text}
    </p>
  );
}

function errorsByFilter(violations: { field: string; message: string }[]): { tag?: string[]; query?: string[] } {
  const out: { tag?: string[]; query?: string[] } = {};
  for (const v of violations) {
    if (v.field === "tag" || v.field === "query") (out[v.field] ??= []).push(v.message);
  }
  return out;
}
