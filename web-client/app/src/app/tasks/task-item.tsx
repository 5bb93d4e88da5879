"use client";

import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { useMutation } from "@connectrpc/connect-query";
import {
  errorReason,
  fieldViolations,
  Priority,
  TaskService,
  UpdateTaskRequestSchema,
  validate,
  type Task,
} from "@example/tasks-client";
import { useEffect, useRef, useState, type FormEvent } from "react";
import { dueInput, dueTimestamp, errorMessage, errorsByField, parseTags, withoutField, type Draft } from "@/lib/draft";
import { useInvalidateTaskLists } from "./invalidate";
import { FieldError, focusFirstInvalid, priorityNames, TaskFields, type FieldErrors } from "./task-fields";

type UpdateInit = MessageInitShape<typeof UpdateTaskRequestSchema>;

function draftOf(task: Task): Draft {
  return {
    title: task.title,
    description: task.description,
    priority: task.priority,
    tags: task.tags.join(", "),
    due: dueInput(task.dueTime),
  };
}

/**
 * The UpdateTask request that turns task into draft: only the fields that
 * changed are present, with the etag the task was read with, so a change
 * made elsewhere in the meantime is refused instead of overwritten.
 */
function patchOf(task: Task, draft: Draft): UpdateInit | undefined {
  const patch: UpdateInit = { id: task.id, etag: task.etag };
  if (draft.title !== task.title) patch.title = draft.title;
  if (draft.description !== task.description) patch.description = draft.description;
  if (draft.priority !== task.priority) patch.priority = draft.priority;
  const tags = parseTags(draft.tags);
  if (tags.join("\n") !== task.tags.join("\n")) patch.tags = { values: tags };
  if (draft.due !== dueInput(task.dueTime)) {
    if (draft.due === "") patch.clearDueTime = true;
    else patch.dueTime = dueTimestamp(draft.due);
  }
  const changed = Object.keys(patch).some((key) => key !== "id" && key !== "etag");
  return changed ? patch : undefined;
}

function startOfToday(): Date {
  const now = new Date();
  return new Date(now.getFullYear(), now.getMonth(), now.getDate());
}

/**
 * Focuses el unless the user has put focus somewhere else in the meantime:
 * only when it is nowhere (on the page itself, after the focused button was
 * disabled or removed) or still inside item.
 */
function focusIfLost(el: HTMLElement | null | undefined, item: HTMLElement | null): void {
  const active = document.activeElement;
  if (!el || !(active === null || active === document.body || item?.contains(active))) return;
  el.focus();
}

/**
 * Where focus goes once a task is deleted: the next item, else the one
 * before, else the list.
 */
function focusAfterDelete(item: HTMLElement | null): () => void {
  const list = item?.closest("ul");
  const neighbour = (item?.nextElementSibling ?? item?.previousElementSibling) as HTMLElement | null | undefined;
  const id = neighbour?.dataset.taskId;
  return () => {
    const next = id ? list?.querySelector<HTMLElement>(`[data-task-id="${id}"]`) : undefined;
    focusIfLost(next ?? list, item);
  };
}

/** One task: complete it, edit it in place, or delete it. */
export function TaskItem({ task }: { task: Task }) {
  const invalidate = useInvalidateTaskLists();
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState<Draft>(() => draftOf(task));
  const [errors, setErrors] = useState<FieldErrors>({});
  const [problem, setProblem] = useState("");
  const item = useRef<HTMLLIElement>(null);
  // Where focus goes next (a selector within the item), so that it never
  // drops to the page: the title field once editing starts, the Edit button
  // once it ends, the control that sent a change once it is enabled again
  // (a focused control that is disabled while its request is on its way
  // loses focus). See the effect below.
  const focusNext = useRef<string | null>(null);
  function startEditing() {
    setDraft(draftOf(task));
    setErrors({});
    setProblem("");
    focusNext.current = 'input[name="title"]';
    setEditing(true);
  }
  function stopEditing() {
    setErrors({});
    focusNext.current = "button.edit";
    setEditing(false);
  }

  // A stale etag means someone changed or deleted the task elsewhere: say so
  // and show the task as it is now.
  function onFailure(err: unknown): FieldErrors {
    switch (errorReason(err)) {
      case "ETAG_MISMATCH":
        void invalidate();
        return { form: ["This task changed elsewhere; it has been reloaded. Try again."] };
      case "NOT_FOUND":
        void invalidate();
        return { form: ["This task no longer exists."] };
    }
    const violations = fieldViolations(err);
    if (violations.length > 0) return errorsByField(violations);
    return { form: [errorMessage(err)] };
  }

  const update = useMutation(TaskService.method.updateTask, {
    onSuccess: async () => {
      setProblem("");
      if (editing) stopEditing();
      else focusNext.current = 'input[type="checkbox"]';
      await invalidate();
    },
    onError: (err) => {
      const found = onFailure(err);
      if (editing) {
        setErrors(found);
        if (!focusFirstInvalid(item.current?.querySelector("form") ?? null, found)) {
          focusNext.current = 'button[type="submit"]'; // the message is under the form
        }
      } else {
        setProblem((found.form ?? []).join(" "));
        focusNext.current = 'input[type="checkbox"]';
      }
    },
  });
  const remove = useMutation(TaskService.method.deleteTask, {
    onMutate: () => ({ refocus: focusAfterDelete(item.current) }),
    onSuccess: async (_res, _req, context) => {
      await invalidate();
      context?.refocus();
    },
    onError: (err) => {
      setProblem((onFailure(err).form ?? []).join(" "));
      focusNext.current = "button.danger";
    },
  });

  function save(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const patch = patchOf(task, draft);
    if (!patch) {
      stopEditing(); // nothing changed: nothing to send
      return;
    }
    const checked = validate(UpdateTaskRequestSchema, patch);
    const found = errorsByField(checked.violations);
    setErrors(found);
    if (checked.valid) update.mutate(patch);
    else focusFirstInvalid(event.currentTarget, found);
  }

  // While a toggle is on its way, show the state it asks for.
  const completed = update.isPending && update.variables.completed !== undefined ? update.variables.completed : task.completed;
  const due = task.dueTime ? timestampDate(task.dueTime) : undefined;
  const overdue = due !== undefined && !completed && due < startOfToday();
  const busy = update.isPending || remove.isPending;

  useEffect(() => {
    const selector = focusNext.current;
    const el = selector ? item.current?.querySelector<HTMLElement>(selector) : null;
    if (!el || (el as HTMLButtonElement).disabled) return; // again once it is enabled
    focusNext.current = null;
    focusIfLost(el, item.current);
  }, [editing, busy]);

  if (editing) {
    return (
      <li ref={item} className="task editing" data-testid="task" data-task-id={task.id}>
        <form aria-label={`Edit ${task.title}`} onSubmit={save} noValidate>
          <TaskFields
            prefix={`edit-${task.id}`}
            draft={draft}
            errors={errors}
            onChange={(next, field) => {
              setDraft(next);
              setErrors((e) => withoutField(e, field));
            }}
          />
          <FieldError id={`edit-${task.id}-form-error`} messages={errors.form} />
          <div className="actions">
            <button type="submit" disabled={busy}>
              Save
            </button>
            <button type="button" className="secondary" onClick={stopEditing}>
              Cancel
            </button>
          </div>
        </form>
      </li>
    );
  }

  return (
    // tabIndex -1: focus can be put here (after the task before it is deleted), not tabbed to.
    <li
      ref={item}
      className={completed ? "task done" : "task"}
      data-testid="task"
      data-task-id={task.id}
      tabIndex={-1}
    >
      <input
        type="checkbox"
        aria-label={`Completed: ${task.title}`}
        checked={completed}
        disabled={busy}
        onChange={(e) => update.mutate({ id: task.id, etag: task.etag, completed: e.target.checked })}
      />
      <div className="task-body">
        <span className="task-title" data-testid="task-title">
          {task.title}
        </span>
        {task.priority !== Priority.UNSPECIFIED ? (
          <span className={`badge priority-${priorityNames[task.priority].toLowerCase()}`} data-testid="task-priority">
            {priorityNames[task.priority]}
          </span>
        ) : null}
        {task.tags.map((tag) => (
          <span key={tag} className="tag" data-testid="task-tag">
            #{tag}
          </span>
        ))}
        {due ? (
          <span className={overdue ? "due overdue" : "due"} data-testid="task-due">
            due {due.toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" })}
          </span>
        ) : null}
        {task.description ? <p className="task-description">{task.description}</p> : null}
        {problem ? (
          <p className="error" role="alert">
            {problem}
          </p>
        ) : null}
      </div>
      <div className="task-actions">
        <button type="button" className="secondary edit" disabled={busy} aria-label={`Edit ${task.title}`} onClick={startEditing}>
          Edit
        </button>
        <button
          type="button"
          className="danger"
          disabled={busy}
          aria-label={`Delete ${task.title}`}
          onClick={() => remove.mutate({ id: task.id, etag: task.etag })}
        >
          Delete
        </button>
      </div>
    </li>
  );
}
