"use client";

import { Priority } from "@example/tasks-client";
import type { Draft, DraftField } from "@/lib/draft";

export type FieldErrors = Partial<Record<DraftField | "form", string[]>>;

export const priorityNames: Record<Priority, string> = {
  [Priority.UNSPECIFIED]: "None",
  [Priority.LOW]: "Low",
  [Priority.MEDIUM]: "Medium",
  [Priority.HIGH]: "High",
};

/** Moves focus to the first field of form that has a message in errors; says whether there was one. */
export function focusFirstInvalid(form: HTMLFormElement | null, errors: FieldErrors): boolean {
  const first = (["title", "description", "priority", "tags", "due"] as const).find((f) => errors[f]?.length);
  const field = first ? form?.querySelector<HTMLElement>(`[name="${first}"]`) : undefined;
  field?.focus();
  return !!field;
}

/** The messages for one field, shown right under it. */
export function FieldError({ id, messages }: { id: string; messages: string[] | undefined }) {
  if (!messages?.length) return null;
  return (
    <p className="field-error" id={id} data-testid={id} role="alert">
      {messages.join("; ")}
    </p>
  );
}

/**
 * The fields a task form edits, each with its error messages next to it.
 * `prefix` keeps ids unique when several forms are on the page.
 */
export function TaskFields({
  prefix,
  draft,
  errors,
  onChange,
}: {
  prefix: string;
  draft: Draft;
  errors: FieldErrors;
  /** Called with the new draft and the field that changed. */
  onChange: (draft: Draft, field: DraftField) => void;
}) {
  const set = <K extends DraftField>(key: K, value: Draft[K]) => onChange({ ...draft, [key]: value }, key);
  const id = (field: string) => `${prefix}-${field}`;
  const described = (field: DraftField) => (errors[field]?.length ? `${id(field)}-error` : undefined);
  return (
    <div className="fields">
      <div className="field wide">
        <label htmlFor={id("title")}>Title</label>
        <input
          id={id("title")}
          name="title"
          value={draft.title}
          onChange={(e) => set("title", e.target.value)}
          aria-invalid={errors.title?.length ? true : undefined}
          aria-describedby={described("title")}
        />
        <FieldError id={`${id("title")}-error`} messages={errors.title} />
      </div>
      <div className="field wide">
        <label htmlFor={id("description")}>Description</label>
        <textarea
          id={id("description")}
          name="description"
          rows={2}
          value={draft.description}
          onChange={(e) => set("description", e.target.value)}
          aria-invalid={errors.description?.length ? true : undefined}
          aria-describedby={described("description")}
        />
        <FieldError id={`${id("description")}-error`} messages={errors.description} />
      </div>
      <div className="field">
        <label htmlFor={id("priority")}>Priority</label>
        <select
          id={id("priority")}
          name="priority"
          value={draft.priority}
          onChange={(e) => set("priority", Number(e.target.value) as Priority)}
        >
          {Object.entries(priorityNames).map(([value, name]) => (
            <option key={value} value={value}>
              {name}
            </option>
          ))}
        </select>
        <FieldError id={`${id("priority")}-error`} messages={errors.priority} />
      </div>
      <div className="field">
        <label htmlFor={id("tags")}>Tags</label>
        <input
          id={id("tags")}
          name="tags"
          placeholder="home, errands"
          value={draft.tags}
          onChange={(e) => set("tags", e.target.value)}
          aria-invalid={errors.tags?.length ? true : undefined}
          aria-describedby={described("tags")}
        />
        <FieldError id={`${id("tags")}-error`} messages={errors.tags} />
      </div>
      <div className="field">
        <label htmlFor={id("due")}>Due</label>
        <input
          id={id("due")}
          name="due"
          type="date"
          value={draft.due}
          onChange={(e) => set("due", e.target.value)}
          aria-invalid={errors.due?.length ? true : undefined}
          aria-describedby={described("due")}
        />
        <FieldError id={`${id("due")}-error`} messages={errors.due} />
      </div>
    </div>
  );
}
