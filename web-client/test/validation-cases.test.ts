// The shared table of requests (testdata/validation_cases.json, also run by
// the Go tests): the browser-side validate() must report exactly the table's
// violations, and the server must reject exactly the invalid requests, with
// the same field/rule pairs, over every protocol.
import { readFileSync } from "node:fs";
import { fromJson, type DescMessage, type JsonValue } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import {
  errorReason,
  fieldViolations,
  TaskService,
  validate,
  type FieldViolation,
} from "../src/index.js";
import { clientFor, newUser, protocols } from "./support.js";

interface ValidationCase {
  name: string;
  type: string;
  message: JsonValue;
  violations: { field: string; rule: string }[];
}

const table = JSON.parse(
  readFileSync(new URL("../../testdata/validation_cases.json", import.meta.url), "utf8"),
) as { cases: ValidationCase[] };

// Each request type of the table belongs to exactly one RPC.
const methods = new Map(TaskService.methods.map((m) => [m.input.typeName, m]));

function methodFor(c: ValidationCase) {
  const method = methods.get(c.type);
  if (!method) throw new Error(`${c.name}: no TaskService RPC takes ${c.type}`);
  return method;
}

function pairs(violations: Pick<FieldViolation, "field" | "rule">[]): string[] {
  return violations.map((v) => `${v.field} ${v.rule}`).sort();
}

const cases = table.cases.map((c) => [c.name, c] as const);

describe("the shared validation table", () => {
  it("has cases for every request type", () => {
    expect(new Set(table.cases.map((c) => c.type))).toEqual(
      new Set(TaskService.methods.map((m) => m.input.typeName)),
    );
  });
});

describe("validate() in the client", () => {
  it.each(cases)("%s", (_, c) => {
    const schema: DescMessage = methodFor(c).input;
    const result = validate(schema, fromJson(schema, c.message));
    expect(pairs(result.violations)).toEqual(pairs(c.violations));
    expect(result.valid).toBe(c.violations.length === 0);
    for (const v of result.violations) expect(v.message).not.toBe("");
  });
});

describe.each(Object.keys(protocols))("the server over %s", (protocol) => {
  const client = clientFor(protocol, newUser("table"));

  it.each(cases)("%s", async (_, c) => {
    const method = methodFor(c);
    const request = fromJson(method.input, c.message);
    const call = client[method.localName as keyof typeof client] as (
      req: typeof request,
    ) => Promise<unknown> | AsyncIterable<unknown>;
    let err: unknown;
    try {
      const answer = call(request);
      if (method.methodKind === "server_streaming") {
        // A stream answers (or fails) with its first message; breaking off
        // the loop closes it.
        for await (const _ of answer as AsyncIterable<unknown>) break;
      } else {
        await answer;
      }
    } catch (e) {
      err = e;
    }
    if (c.violations.length === 0) {
      // Valid requests may still fail for other reasons (NotFound for a
      // random id, INVALID_REQUEST for a made-up page token or cursor), never
      // validation: no schema rule is named. (The server names the cursor
      // field of an invalid cursor, with no rule id, as it does for its own
      // checks such as repeated tags.)
      if (err !== undefined) {
        expect(err).toBeInstanceOf(ConnectError);
        expect(errorReason(err)).not.toBe("VALIDATION_ERROR");
        expect(fieldViolations(err).filter((v) => v.rule !== "")).toEqual([]);
      }
      return;
    }
    expect(err).toBeInstanceOf(ConnectError);
    expect(Code[(err as ConnectError).code]).toBe(Code[Code.InvalidArgument]);
    expect(errorReason(err)).toBe("VALIDATION_ERROR");
    expect(pairs(fieldViolations(err))).toEqual(pairs(c.violations));
  });
});
