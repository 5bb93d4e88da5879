"use client";

import { useMutation } from "@connectrpc/connect-query";
import {
  CreateTaskRequestSchema,
  fieldViolations,
  TaskService,
  validate,
} from "@example/tasks-client";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { useRef, useState, type FormEvent } from "react";
import {
  dueTimestamp,
  emptyDraft,
  errorMessage,
  errorsByField,
  newRequestId,
  parseTags,
  withoutField,
  type Draft,
} from "@/lib/draft";
import { useDevTools } from "../providers";
import { useInvalidateTaskLists } from "./invalidate";
import { FieldError, focusFirstInvalid, TaskFields, type FieldErrors } from "./task-fields";

type CreateInit = MessageInitShape<typeof CreateTaskRequestSchema>;

/**
 * The form that adds a task. The request is checked in the browser with the
 * schema's own rules (validate) before it is sent; the server checks them
 * again and a few more (duplicate tags), and its answer lands next to the
 * same fields.
 */
export function NewTaskForm() {
  const invalidate = useInvalidateTaskLists();
  const form = useRef<HTMLFormElement>(null);
  const [draft, setDraft] = useState<Draft>(emptyDraft);
  const [errors, setErrors] = useState<FieldErrors>({});
  // A developer switch (useDevTools): off only to watch the server's own
  // checks, as everything then goes to it.
  const devTools = useDevTools();
  const [checkInBrowser, setCheckInBrowser] = useState(true);
  // One id per task being created, reused by every retry of it, so a retry
  // after a lost response cannot add the task twice.
  const [requestId, setRequestId] = useState(newRequestId);

  const create = useMutation(TaskService.method.createTask, {
    onSuccess: async () => {
      setDraft(emptyDraft);
      setErrors({});
      setRequestId(newRequestId());
      // Ready for the next task (the button, disabled while sending, lost focus).
      form.current?.querySelector<HTMLInputElement>('input[name="title"]')?.focus();
      await invalidate();
    },
    onError: (err) => {
      const found = serverErrors(err);
      setErrors(found);
      focusFirstInvalid(form.current, found);
    },
  });

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const request: CreateInit = {
      title: draft.title,
      description: draft.description,
      priority: draft.priority,
      tags: parseTags(draft.tags),
      dueTime: dueTimestamp(draft.due),
      requestId,
    };
    if (checkInBrowser) {
      const checked = validate(CreateTaskRequestSchema, request);
      const found = errorsByField(checked.violations);
      setErrors(found);
      if (!checked.valid) {
        focusFirstInvalid(form.current, found);
        return;
      }
    } else {
      setErrors({});
    }
    create.mutate(request);
  }

  return (
    <form ref={form} className="card new-task" aria-label="New task" onSubmit={submit} noValidate>
      <h2>New task</h2>
      <TaskFields
        prefix="new"
        draft={draft}
        errors={errors}
        onChange={(next, field) => {
          setDraft(next);
          setErrors((e) => withoutField(e, field));
        }}
      />
      <FieldError id="new-form-error" messages={errors.form} />
      <div className="actions">
        <button type="submit" disabled={create.isPending}>
          Add task
        </button>
        {devTools ? (
          <label className="inline muted">
            <input
              type="checkbox"
              name="check-in-browser"
              checked={checkInBrowser}
              onChange={(e) => setCheckInBrowser(e.target.checked)}
            />
            Check in the browser before sending
          </label>
        ) : null}
      </div>
    </form>
  );
}

/**
 * Where a failed create's problems go: next to the fields the server's
 * violations name (the schema's rules, VALIDATION_ERROR, and the server's
 * own, such as tags that repeat once lower-cased, INVALID_REQUEST), or under
 * the form.
 */
function serverErrors(err: unknown): FieldErrors {
  const violations = fieldViolations(err);
  if (violations.length > 0) return errorsByField(violations);
  return { form: [errorMessage(err)] };
}
