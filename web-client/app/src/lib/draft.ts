import { timestampDate, timestampFromDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { ConnectError } from "@connectrpc/connect";
import { Priority, type FieldViolation } from "@example/tasks-client";

// What a task form holds while someone types: plain strings, turned into
// request fields only when sent.

export interface Draft {
  title: string;
  description: string;
  priority: Priority;
  /** Tags as typed: separated by commas or spaces. */
  tags: string;
  /** A due date as a date input gives it (YYYY-MM-DD), or "" for none. */
  due: string;
}

export const emptyDraft: Draft = { title: "", description: "", priority: Priority.UNSPECIFIED, tags: "", due: "" };

export type DraftField = keyof Draft;

export function parseTags(text: string): string[] {
  return text.split(/[\s,]+/).filter((tag) => tag !== "");
}

/** A due date is the start of that day in the browser's time zone. */
export function dueTimestamp(due: string): Timestamp | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(due);
  if (!match) return undefined;
  const [, y, m, d] = match;
  return timestampFromDate(new Date(Number(y), Number(m) - 1, Number(d)));
}

export function dueInput(ts: Timestamp | undefined): string {
  if (!ts) return "";
  const date = timestampDate(ts);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/**
 * Groups violations by the form field they belong to. Paths come from the
 * request (`title`, `tags[1]`, `tags.values[0]`, `due_time`); a violation
 * of a list item keeps its position in the message, since the tags field
 * shows them all. Rules on the whole message go under "form".
 */
export function errorsByField(violations: FieldViolation[]): Partial<Record<DraftField | "form", string[]>> {
  const out: Partial<Record<DraftField | "form", string[]>> = {};
  for (const v of violations) {
    const head = v.field.split(/[.[]/)[0] ?? "";
    const field: DraftField | "form" =
      head === "title" || head === "description" || head === "priority" || head === "tags"
        ? head
        : head === "due_time" || head === "clear_due_time"
          ? "due"
          : "form";
    const index = /\[(\d+)\]/.exec(v.field)?.[1];
    const message = field === "tags" && index !== undefined ? `tag ${Number(index) + 1}: ${v.message}` : v.message;
    (out[field] ??= []).push(message);
  }
  return out;
}

/**
 * errors without the messages of field: what was said about a field no
 * longer applies once it changes (the next check says it again if need be).
 */
export function withoutField<E extends Partial<Record<string, string[]>>>(errors: E, field: DraftField): E {
  if (!errors[field]) return errors;
  const { [field]: _, ...rest } = errors;
  return rest as E;
}

/** An RFC 4122 version 4 UUID, also outside secure contexts. */
export function newRequestId(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** An error's message for people: a Connect error's own text, without the code prefix. */
export function errorMessage(err: unknown): string {
  if (err instanceof ConnectError) return err.rawMessage;
  return err instanceof Error ? err.message : String(err);
}
