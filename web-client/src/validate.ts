import { create, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";
import { createValidator, violationToProto, type Validator } from "@bufbuild/protovalidate";
import type { FieldViolation } from "./errors.js";
import { fieldPathString } from "./fieldpath.js";

/** The outcome of {@link validate}: the same shape the server's errors give. */
export type ValidationOutcome =
  | { valid: true; violations: [] }
  | { valid: false; violations: FieldViolation[] };

// Compiled rules are cached per message type inside the validator, so one
// validator serves the whole app.
let validator: Validator | undefined;

/**
 * Checks a request against the protovalidate rules in the schema, the same
 * rules the server enforces, so a form can show errors before sending.
 * Accepts a message or a plain init object (`{ title: "..." }`).
 *
 * The server still validates, and some checks are server-only (duplicate
 * tags after lower-casing, page tokens, etags). Throws if a rule cannot be
 * compiled or evaluated, which is a bug, not bad input.
 */
export function validate<Desc extends DescMessage>(
  schema: Desc,
  message: MessageInitShape<Desc>,
): ValidationOutcome {
  validator ??= createValidator();
  const result = validator.validate(schema, create(schema, message));
  switch (result.kind) {
    case "valid":
      return { valid: true, violations: [] };
    case "invalid":
      return {
        valid: false,
        violations: result.violations.map((v) => {
          const [proto] = violationToProto(v);
          return { field: fieldPathString(proto.field), message: v.message, rule: v.ruleId };
        }),
      };
    case "error":
      throw result.error;
  }
}
