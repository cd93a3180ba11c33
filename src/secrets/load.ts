import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { SecretsError } from "./errors.js";
import { newKeyFileText, parseKeys, type KeyEntry } from "./keyfile.js";
import { KeyRing } from "./keyring.js";

/** The environment variable that holds keys inline, `;`-separated. */
export const KEYS_ENV = "GATEHOUSE_ENCRYPTION_KEYS";

/** Where the server's encryption keys come from. */
export type KeySource =
  /** A key file the operator manages (`--encryption-key-file`). */
  | { readonly kind: "file"; readonly path: string }
  /** GATEHOUSE_ENCRYPTION_KEYS: the same format, `;`-separated. */
  | { readonly kind: "environment"; readonly text: string }
  /** The default: DATA_DIR/encryption.keys, created with one random key on first start (mode 0600). */
  | { readonly kind: "generated"; readonly path: string };

/** Read and parse the keys of a source without creating anything (for config validation). */
export function readKeys(source: Exclude<KeySource, { kind: "generated" }>): KeyEntry[] {
  switch (source.kind) {
    case "file":
      return parseKeys(readKeyFile(source.path), { name: source.path, separator: "line" });
    case "environment":
      return parseKeys(source.text, { name: KEYS_ENV, separator: "semicolon" });
  }
}

/** The key ring of a source; the generated default is created when absent. */
export function loadKeyRing(source: KeySource, random: (n: number) => Buffer = randomBytes): KeyRing {
  if (source.kind !== "generated") return KeyRing.create(readKeys(source), random);
  let text: string;
  try {
    text = readFileSync(source.path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw unreadable(source.path, e);
    text = createKeyFile(source.path, random);
  }
  return KeyRing.create(parseKeys(text, { name: source.path, separator: "line" }), random);
}

/** Write a new key file exclusively; if another replica won the race, use its file. */
function createKeyFile(path: string, random: (n: number) => Buffer): string {
  const text = newKeyFileText(`key-${random(4).toString("hex")}`, random(32));
  try {
    writeFileSync(path, text, { mode: 0o600, flag: "wx" });
    return text;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return readKeyFile(path);
    throw unreadable(path, e);
  }
}

function readKeyFile(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw unreadable(path, e);
  }
}

function unreadable(path: string, e: unknown): SecretsError {
  return new SecretsError(
    "Unreadable",
    `${path}: cannot read key file: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
  );
}
