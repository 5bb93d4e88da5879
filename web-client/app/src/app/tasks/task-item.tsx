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
import { useState, type FormEvent } from "react";
import { dueInput, dueTimestamp, errorMessage, errorsByField, parseTags, type Draft } from "@/lib/draft";
import { useInvalidateTaskLists } from "./invalidate";
import { FieldError, priorityNames, TaskFields, type FieldErrors } from "./task-fields";

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

/** One task: complete it, edit it in place, or delete it. */
export function TaskItem({ task }: { task: Task }) {
  const invalidate = useInvalidateTaskLists();
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState<Draft>(() => draftOf(task));
  const [errors, setErrors] = useState<FieldErrors>({});
  const [problem, setProblem] = useState("");

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
      setEditing(false);
      setErrors({});
      setProblem("");
      await invalidate();
    },
    onError: (err) => {
      const found = onFailure(err);
      if (editing) {
        setErrors(found);
      } else {
        setProblem((found.form ?? []).join(" "));
      }
    },
  });
  const remove = useMutation(TaskService.method.deleteTask, {
    onSuccess: () => invalidate(),
    onError: (err) => setProblem((onFailure(err).form ?? []).join(" ")),
  });

  function save(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const patch = patchOf(task, draft);
    if (!patch) {
      setEditing(false); // nothing changed: nothing to send
      return;
    }
    const checked = validate(UpdateTaskRequestSchema, patch);
    setErrors(errorsByField(checked.violations));
    if (checked.valid) update.mutate(patch);
  }

  // While a toggle is on its way, show the state it asks for.
  const completed = update.isPending && update.variables.completed !== undefined ? update.variables.completed : task.completed;
  const due = task.dueTime ? timestampDate(task.dueTime) : undefined;
  const overdue = due !== undefined && !completed && due < startOfToday();
  const busy = update.isPending || remove.isPending;

  if (editing) {
    return (
      <li className="task editing" data-testid="task" data-task-id={task.id}>
        <form aria-label={`Edit ${task.title}`} onSubmit={save} noValidate>
          <TaskFields prefix={`edit-${task.id}`} draft={draft} errors={errors} onChange={setDraft} />
          <FieldError id={`edit-${task.id}-form-error`} messages={errors.form} />
          <div className="actions">
            <button type="submit" disabled={busy}>
              Save
            </button>
            <button
              type="button"
              className="secondary"
              onClick={() => {
                setEditing(false);
                setErrors({});
              }}
            >
              Cancel
            </button>
          </div>
        </form>
      </li>
    );
  }

  return (
    <li className={completed ? "task done" : "task"} data-testid="task" data-task-id={task.id}>
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
        <button
          type="button"
          className="secondary"
          disabled={busy}
          onClick={() => {
            setDraft(draftOf(task));
            setErrors({});
            setProblem("");
            setEditing(true);
          }}
        >
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
