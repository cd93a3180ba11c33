/**
 * The part of kube-apiserver's ListOptions query decoding that decides a request's verb and name:
 * `watch`, `fieldSelector` (metadata.name), and whether the whole option set decodes at all.
 * When any list option fails to decode, kube-apiserver falls back to "list" (or "watch" from the raw
 * `watch` value) and ignores the field selector, so a bad labelSelector also drops the name.
 * Sources: apimachinery runtime/conversion.go, fields/selector.go, labels/selector.go,
 * apiserver endpoints/request/requestinfo.go.
 */

/** Query values as Go's url.ParseQuery yields them: each key to its values in order. */
export type QueryValues = ReadonlyMap<string, readonly string[]>;

/** Go's Convert_Slice_string_To_bool: absent, "0" or (any case) "false" is false; anything else is true. */
export function queryBool(values: readonly string[] | undefined): boolean {
  const first = values?.[0];
  if (first === undefined) return false;
  return !(first === "0" || first.toLowerCase() === "false");
}

export interface DecodedListOptions {
  watch: boolean;
  /** The value a `metadata.name=` / `metadata.name==` term requires, if any. */
  fieldSelectorName: string | undefined;
}

/**
 * Decode the list options that matter for request info, or undefined when kube-apiserver's
 * ParameterCodec would fail on them (then it uses only the raw `watch` value).
 */
export function decodeListOptions(q: QueryValues): DecodedListOptions | undefined {
  for (const key of ["limit", "timeoutSeconds"]) {
    const v = q.get(key);
    if (v !== undefined && v.length > 0 && !isInt64(v[0] ?? "")) return undefined;
  }
  const labelSelector = q.get("labelSelector")?.[0];
  if (labelSelector !== undefined && !isValidLabelSelector(labelSelector)) return undefined;
  const fieldSelector = q.get("fieldSelector")?.[0];
  let fieldSelectorName: string | undefined;
  if (fieldSelector !== undefined) {
    const terms = parseFieldSelector(fieldSelector);
    if (terms === undefined) return undefined;
    fieldSelectorName = terms.find((t) => t.op === "=" && t.field === "metadata.name")?.value;
  }
  return { watch: queryBool(q.get("watch")), fieldSelectorName };
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Go's strconv.ParseInt(s, 10, 64) succeeds. */
function isInt64(s: string): boolean {
  if (!/^[+-]?[0-9]+$/.test(s)) return false;
  const n = BigInt(s);
  return n >= INT64_MIN && n <= INT64_MAX;
}

interface FieldTerm {
  field: string;
  op: "=" | "!=";
  value: string;
}

/**
 * fields.ParseSelector: comma-separated terms (backslash escapes a comma), each `field!=v`,
 * `field==v` or `field=v` split at the first operator; values unescaped; terms sorted as Go sorts them.
 * Undefined when the selector does not parse.
 */
export function parseFieldSelector(selector: string): FieldTerm[] | undefined {
  const terms: FieldTerm[] = [];
  for (const part of splitEscaped(selector).sort(compareBytes)) {
    if (part === "") continue;
    const m = /!=|==|=/.exec(part);
    if (!m) return undefined;
    const value = unescapeFieldValue(part.slice(m.index + m[0].length));
    if (value === undefined) return undefined;
    terms.push({ field: part.slice(0, m.index), op: m[0] === "!=" ? "!=" : "=", value });
  }
  return terms;
}

function splitEscaped(s: string): string[] {
  if (s === "") return [];
  const out: string[] = [];
  let start = 0;
  let escaped = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (escaped) escaped = false;
    else if (c === "\\") escaped = true;
    else if (c === ",") {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  out.push(s.slice(start));
  return out;
}

function unescapeFieldValue(s: string): string | undefined {
  let out = "";
  let escaped = false;
  for (const c of s) {
    if (escaped) {
      if (c !== "\\" && c !== "," && c !== "=") return undefined;
      out += c;
      escaped = false;
    } else if (c === "\\") escaped = true;
    else if (c === "," || c === "=") return undefined;
    else out += c;
  }
  return escaped ? undefined : out;
}

function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function isLabelKey(k: string): boolean {
  const slash = k.indexOf("/");
  const name = slash < 0 ? k : k.slice(slash + 1);
  if (slash >= 0) {
    const prefix = k.slice(0, slash);
    if (prefix === "" || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)) return false;
  }
  return name !== "" && name.length <= 63 && LABEL_VALUE.test(name);
}

function isLabelValue(v: string): boolean {
  return v.length <= 63 && LABEL_VALUE.test(v);
}

const TOKEN = /\s*(!=|==|=|!|\(|\)|,|<|>|[^\s!=(),<>]+)/y;

function tokenize(s: string): string[] | undefined {
  const tokens: string[] = [];
  let pos = 0;
  while (s.slice(pos).trim() !== "") {
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(s);
    if (!m) return undefined;
    tokens.push(m[1] ?? "");
    pos = TOKEN.lastIndex;
  }
  return tokens;
}

/** labels.Parse accepts the selector (syntax, key and value validity, in/notin non-empty, gt/lt integers). */
export function isValidLabelSelector(s: string): boolean {
  const tokens = tokenize(s);
  if (tokens === undefined) return false;
  if (tokens.length === 0) return true;
  let i = 0;
  const next = (): string | undefined => tokens[i++];
  const isIdent = (t: string | undefined): t is string => t !== undefined && /^[^\s!=(),<>]+$/.test(t);
  for (;;) {
    let t = next();
    if (t === "!") {
      if (!isIdent((t = next())) || !isLabelKey(t)) return false;
    } else {
      if (!isIdent(t) || !isLabelKey(t)) return false;
      const op = tokens[i];
      if (op === "=" || op === "==" || op === "!=") {
        i++;
        const v = isIdent(tokens[i]) && tokens[i] !== "in" && tokens[i] !== "notin" ? next() : "";
        if (!isLabelValue(v ?? "")) return false;
      } else if (op === "in" || op === "notin") {
        i++;
        if (next() !== "(") return false;
        const values: string[] = [];
        for (;;) {
          const v = next();
          if (v === ")") break;
          if (v === ",") continue;
          if (!isIdent(v) || !isLabelValue(v)) return false;
          values.push(v);
        }
        if (values.length === 0) return false;
      } else if (op === "<" || op === ">") {
        i++;
        const v = next();
        if (!isIdent(v) || !isInt64(v)) return false;
      }
    }
    const sep = next();
    if (sep === undefined) return true;
    if (sep !== ",") return false;
  }
}
