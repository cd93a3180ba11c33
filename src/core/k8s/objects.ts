import { LineCounter, parseAllDocuments } from "yaml";

/** A Kubernetes-style object as read from YAML or JSON: only apiVersion and kind are assumed. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [key: string]: unknown;
}

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

/** Where a document came from, for error messages: "file.yaml document 2 (line 14)". */
export interface Source {
  file: string;
  document: number;
  line?: number;
}

export interface SourcedObject {
  object: KubeObject;
  source: Source;
}

/** A document that could not be parsed. Carries its source so the CLI can name file, document and line. */
export class ParseError extends Error {
  readonly code = "ParseError" as const;
  constructor(
    readonly source: Source,
    readonly detail: string,
  ) {
    super(`${formatSource(source)}: ${detail}`);
    this.name = "ParseError";
  }
}

export function formatSource(s: Source): string {
  return `${s.file} document ${s.document}${s.line !== undefined ? ` (line ${s.line})` : ""}`;
}

/**
 * Parse text holding Kubernetes objects: multi-document YAML, a JSON document, or one JSON object
 * per line. `kind: List` and any `*List` kind with `items` are flattened. Empty documents are skipped.
 * Throws ParseError for the first malformed document; nothing is returned partially.
 */
export function parseObjects(text: string, file: string): SourcedObject[] {
  const docs = looksLikeJsonLines(text) ? parseJsonLines(text, file) : parseYamlStream(text, file);
  const out: SourcedObject[] = [];
  for (const d of docs) flatten(d, out);
  return out;
}

function looksLikeJsonLines(text: string): boolean {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  if (lines.length < 2) return false;
  return lines.every((l) => l.trimStart().startsWith("{") && l.trimEnd().endsWith("}"));
}

function parseJsonLines(text: string, file: string): SourcedObject[] {
  const out: SourcedObject[] = [];
  const lines = text.split("\n");
  let doc = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]?.trim() ?? "";
    if (line === "") continue;
    doc++;
    const source: Source = { file, document: doc, line: i + 1 };
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      throw new ParseError(source, `invalid JSON: ${(e as Error).message}`);
    }
    out.push({ object: asObject(value, source), source });
  }
  return out;
}

function parseYamlStream(text: string, file: string): SourcedObject[] {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [docs];
  const out: SourcedObject[] = [];
  let n = 0;
  for (const doc of list) {
    n++;
    const firstError = doc.errors[0];
    if (firstError) {
      const pos = firstError.linePos?.[0];
      const source: Source = pos ? { file, document: n, line: pos.line } : { file, document: n };
      throw new ParseError(source, firstError.message.split("\n")[0] ?? firstError.message);
    }
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    const start = doc.contents?.range?.[0];
    const source: Source =
      start !== undefined
        ? { file, document: n, line: lineCounter.linePos(start).line }
        : { file, document: n };
    if (value === null || value === undefined) continue;
    out.push({ object: asObject(value, source), source });
  }
  return out;
}

function asObject(value: unknown, source: Source): KubeObject {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ParseError(source, "expected an object with apiVersion and kind");
  }
  return value as KubeObject;
}

function flatten(d: SourcedObject, out: SourcedObject[]): void {
  const kind = d.object.kind;
  if (typeof kind === "string" && kind.endsWith("List") && Array.isArray(d.object["items"])) {
    const items = d.object["items"] as unknown[];
    items.forEach((item, i) => {
      const source = { ...d.source, detail: `items[${i}]` };
      const obj = asObject(item, source);
      // kubectl's List items carry their own apiVersion/kind; typed lists (RoleList) may omit them.
      if (obj.kind === undefined && kind !== "List") {
        obj.kind = kind.slice(0, -"List".length);
        if (obj.apiVersion === undefined && typeof d.object.apiVersion === "string")
          obj.apiVersion = d.object.apiVersion;
      }
      flatten({ object: obj, source: d.source }, out);
    });
    return;
  }
  out.push(d);
}

/** "group/version" split; core group is "". */
export function groupVersion(apiVersion: string | undefined): { group: string; version: string } {
  if (!apiVersion) return { group: "", version: "" };
  const i = apiVersion.indexOf("/");
  return i < 0
    ? { group: "", version: apiVersion }
    : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}
