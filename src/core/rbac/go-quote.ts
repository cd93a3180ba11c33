/**
 * Go's %q (strconv.Quote), so reason and error texts are byte-for-byte what kube-apiserver writes.
 * JSON.stringify differs for control characters and non-printable Unicode.
 */
const PRINTABLE = /[\p{L}\p{M}\p{N}\p{P}\p{S} ]/u;

const ESCAPES: Readonly<Record<string, string>> = {
  "\x07": "\\a",
  "\b": "\\b",
  "\f": "\\f",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\v": "\\v",
  "\\": "\\\\",
  '"': '\\"',
};

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, "0");
}

export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const esc = ESCAPES[ch];
    if (esc !== undefined) {
      out += esc;
      continue;
    }
    const cp = ch.codePointAt(0) ?? 0;
    if (cp >= 0x20 && cp < 0x7f) {
      out += ch;
    } else if (cp < 0x80) {
      out += `\\x${hex(cp, 2)}`;
    } else if (cp >= 0xd800 && cp <= 0xdfff) {
      // A lone surrogate reaches Go (through JSON) as U+FFFD, which %q prints as itself.
      out += "\ufffd";
    } else if (PRINTABLE.test(ch)) {
      out += ch;
    } else if (cp < 0x10000) {
      out += `\\u${hex(cp, 4)}`;
    } else {
      out += `\\U${hex(cp, 8)}`;
    }
  }
  return out + '"';
}

/** Go's %v / %q of a []string, as fmt prints it: [a b] and ["a" "b"]. */
export function goList(values: readonly string[]): string {
  return `[${values.join(" ")}]`;
}

export function goQuoteList(values: readonly string[]): string {
  return `[${values.map(goQuote).join(" ")}]`;
}

/** Go's strings.Compare: byte order of the UTF-8 encodings (code point order), not UTF-16 order. */
export function goCompare(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a.charCodeAt(i) === b.charCodeAt(i)) continue;
    // Earlier units are equal, so both strings are aligned here; compare whole code points.
    const p = a.codePointAt(i) ?? 0;
    const q = b.codePointAt(i) ?? 0;
    return p < q ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}
