import type { FieldPath } from "./gen/buf/validate/validate_pb.js";

/**
 * The dotted form of a buf.validate.FieldPath, exactly as Go's
 * protovalidate.FieldPathString prints it (`title`, `tags[1]`,
 * `tags.values[0]`, `labels["key"]`), so the browser and the server's logs
 * name fields the same way. Takes the structural shape so it accepts the
 * FieldPath of protovalidate-es's own generated copy too.
 */
export function fieldPathString(path: Pick<FieldPath, "elements"> | undefined): string {
  let out = "";
  for (const [i, element] of (path?.elements ?? []).entries()) {
    if (i > 0) {
      out += ".";
    }
    out += element.fieldName;
    const { subscript } = element;
    switch (subscript.case) {
      case undefined:
        continue;
      case "stringKey":
        out += `[${goQuote(subscript.value)}]`;
        break;
      default:
        out += `[${String(subscript.value)}]`;
    }
  }
  return out;
}

// goQuote approximates Go's strconv.Quote for map keys: printable text as is,
// the usual escapes for quotes, backslashes and control characters.
function goQuote(s: string): string {
  const named: Record<string, string> = {
    "\u0007": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n",
    "\r": "\\r", "\t": "\\t", "\v": "\\v", "\\": "\\\\", '"': '\\"',
  };
  let out = '"';
  for (const ch of s) {
    const code = ch.codePointAt(0) ?? 0;
    if (named[ch] !== undefined) {
      out += named[ch];
    } else if (code < 0x20 || code === 0x7f) {
      out += `\\x${code.toString(16).padStart(2, "0")}`;
    } else {
      out += ch;
    }
  }
  return out + '"';
}
