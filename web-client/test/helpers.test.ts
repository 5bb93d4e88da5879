// The error helpers and the field path format, without a server.
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { errorFromJson } from "@connectrpc/connect/protocol-connect";
import { describe, expect, it } from "vitest";
import { FieldPathSchema, ViolationsSchema } from "../src/gen/buf/validate/validate_pb.js";
import { ErrorInfoSchema, errorReason, fieldPathString, fieldViolations } from "../src/index.js";

function wireError(code: string, details: [string, Uint8Array][]): ConnectError {
  const json = {
    code,
    message: "x",
    details: details.map(([type, value]) => ({
      type,
      value: Buffer.from(value).toString("base64").replace(/=+$/, ""),
    })),
  };
  return errorFromJson(json, undefined, new ConnectError("fallback", Code.Unknown));
}

describe("errorReason and fieldViolations", () => {
  it("read the details of a ConnectError as it arrives from the wire", () => {
    const info = create(ErrorInfoSchema, { reason: "NOT_FOUND", domain: "tasks.v1" });
    const violations = create(ViolationsSchema, {
      violations: [
        {
          field: { elements: [{ fieldName: "tags", subscript: { case: "index", value: 2n } }] },
          ruleId: "string.pattern",
          message: "bad",
        },
      ],
    });
    // A Connect error body as the server writes it.
    const err = wireError("not_found", [
      [ErrorInfoSchema.typeName, toBinary(ErrorInfoSchema, info)],
      [ViolationsSchema.typeName, toBinary(ViolationsSchema, violations)],
    ]);
    expect(errorReason(err)).toBe("NOT_FOUND");
    expect(fieldViolations(err)).toEqual([
      { field: "tags[2]", rule: "string.pattern", message: "bad" },
    ]);
  });

  it("ignore reasons of other domains and anything that is not a ConnectError", () => {
    const foreign = create(ErrorInfoSchema, { reason: "RATE_LIMITED", domain: "proxy.example" });
    const err = wireError("unavailable", [[ErrorInfoSchema.typeName, toBinary(ErrorInfoSchema, foreign)]]);
    expect(errorReason(err)).toBeUndefined();
    expect(errorReason(new Error("network"))).toBeUndefined();
    expect(errorReason(undefined)).toBeUndefined();
    expect(fieldViolations(err)).toEqual([]);
    expect(fieldViolations("oops")).toEqual([]);
  });
});

describe("fieldPathString", () => {
  it.each([
    ["no elements", [], ""],
    ["a field", [{ fieldName: "title" }], "title"],
    ["a nested list item", [{ fieldName: "tags" }, { fieldName: "values", subscript: { case: "index", value: 0n } }], "tags.values[0]"],
    ["a string key", [{ fieldName: "m", subscript: { case: "stringKey", value: 'a"b\n' } }], 'm["a\\"b\\n"]'],
    ["a bool key", [{ fieldName: "m", subscript: { case: "boolKey", value: true } }], "m[true]"],
    ["an int key", [{ fieldName: "m", subscript: { case: "intKey", value: -3n } }], "m[-3]"],
    ["a uint key", [{ fieldName: "m", subscript: { case: "uintKey", value: 7n } }], "m[7]"],
  ] as const)("%s", (_, elements, want) => {
    const path = create(FieldPathSchema, {
      elements: elements.map((e) => ({ ...e })) as never,
    });
    expect(fieldPathString(path)).toBe(want);
  });
});
