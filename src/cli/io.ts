import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { ParseError, parseObjects, type SourcedObject } from "../core/k8s/index.js";
import { CliError } from "./errors.js";

const OBJECT_FILE = /\.(ya?ml|json|jsonl)$/i;

/** Read every YAML/JSON file under the given files or folders (recursively), in a stable order. */
export function readObjectPaths(paths: readonly string[]): SourcedObject[] {
  const out: SourcedObject[] = [];
  for (const p of paths) {
    for (const file of listFiles(p)) out.push(...parseFile(file));
  }
  return out;
}

function listFiles(path: string): string[] {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new CliError(`${path}: no such file or directory`);
  }
  if (st.isFile()) return [path];
  if (!st.isDirectory()) throw new CliError(`${path}: not a file or directory`);
  const out: string[] = [];
  for (const name of readdirSync(path).sort()) {
    const full = join(path, name);
    const s = statSync(full);
    if (s.isDirectory()) out.push(...listFiles(full));
    else if (OBJECT_FILE.test(name)) out.push(full);
  }
  return out;
}

function parseFile(file: string): SourcedObject[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new CliError(`${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  return parseText(text, file);
}

/** Parse text, turning a ParseError into a CliError that names file, document and line. */
export function parseText(text: string, name: string): SourcedObject[] {
  try {
    return parseObjects(text, name);
  } catch (e) {
    if (e instanceof ParseError) throw new CliError(e.message);
    throw e;
  }
}

/** Read a file, or standard input when the name is "-" or absent. */
export function readInput(file: string | undefined): { text: string; name: string } {
  if (file === undefined || file === "-") {
    try {
      return { text: readFileSync(0, "utf8"), name: "<stdin>" };
    } catch (e) {
      throw new CliError(`cannot read standard input: ${String(e)}`);
    }
  }
  try {
    return { text: readFileSync(file, "utf8"), name: file };
  } catch (e) {
    throw new CliError(`${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

export type OutputFormat = "table" | "json" | "yaml" | "jsonl" | "name";

/** Validate an -o value against the formats a command supports. */
export function outputFormat<T extends OutputFormat>(value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new CliError(`unknown output format ${JSON.stringify(value)}; use one of: ${allowed.join(", ")}`);
}

/** A kubectl-style table: upper-case headers, columns padded with three spaces. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("   ")
      .trimEnd();
  return [line(headers), ...rows.map(line)].join("\n") + "\n";
}

export function toYaml(value: unknown): string {
  // YAML 1.1 quoting: kubectl reads yes/no/on/off unquoted as booleans, so such strings must be quoted.
  return stringify(value, { lineWidth: 0, version: "1.1" });
}

/** Output sink passed to commands so tests can capture it. */
export interface Output {
  out(text: string): void;
  err(text: string): void;
}

export const processOutput: Output = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
};
