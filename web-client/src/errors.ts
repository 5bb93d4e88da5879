import { ConnectError } from "@connectrpc/connect";
import { ViolationsSchema } from "./gen/buf/validate/validate_pb.js";
import { ErrorInfoSchema } from "./errorinfo.js";
import { fieldPathString } from "./fieldpath.js";

/** The ErrorInfo domain of the Tasks API's reasons. */
export const ERROR_DOMAIN = "tasks.v1";

/**
 * The reasons the Tasks API puts in its errors (API.md, "Errors"). The type
 * stays open to strings so a reason added later on the server still type-checks.
 */
export type ErrorReason =
  | "VALIDATION_ERROR"
  | "INVALID_REQUEST"
  | "UNAUTHORIZED"
  | "NOT_FOUND"
  | "ETAG_MISMATCH"
  | "CURSOR_EXPIRED"
  | "TOO_MANY_WATCHES"
  | "TOO_MANY_REQUESTS"
  | "QUOTA_EXCEEDED"
  | "SERVICE_UNAVAILABLE"
  | "INTERNAL_ERROR"
  | (string & {});

/** One broken schema rule, as the server or {@link validate} reports it. */
export interface FieldViolation {
  /** The field's path as Go's protovalidate prints it: `title`, `tags[1]`, `tags.values[0]`; empty for a message rule. */
  field: string;
  /** What is wrong, for people. */
  message: string;
  /** The rule's id, e.g. `string.max_len`, `required`, `string.not_blank`. */
  rule: string;
}

/**
 * The ErrorInfo reason of a Tasks API error, or undefined when err is not a
 * ConnectError or carries no ErrorInfo of the `tasks.v1` domain (a proxy's
 * or the network's error, say).
 */
export function errorReason(err: unknown): ErrorReason | undefined {
  if (!(err instanceof ConnectError)) {
    return undefined;
  }
  return err.findDetails(ErrorInfoSchema).find((info) => info.domain === ERROR_DOMAIN)?.reason;
}

/**
 * The rules a request broke, from the error's buf.validate.Violations
 * detail; empty for any other error. Present with reason VALIDATION_ERROR
 * (the schema's rules), and with INVALID_REQUEST when a rule only the server
 * checks names a field (tags that repeat once lower-cased; `rule` is empty).
 */
export function fieldViolations(err: unknown): FieldViolation[] {
  if (!(err instanceof ConnectError)) {
    return [];
  }
  return err.findDetails(ViolationsSchema).flatMap((detail) =>
    detail.violations.map((v) => ({
      field: fieldPathString(v.field),
      message: v.message,
      rule: v.ruleId,
    })),
  );
}
