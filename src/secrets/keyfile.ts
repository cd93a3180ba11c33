import { SecretsError } from "./errors.js";

/** One AES-256 key of a key ring: an id that ciphertexts name, and 32 bytes. */
export interface KeyEntry {
  readonly id: string;
  readonly key: Buffer;
}

/** Key ids appear inside ciphertexts, separated by ':', so the alphabet is narrow. */
const KEY_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
export const KEY_BYTES = 32;

/**
 * Parse keys, one `ID:BASE64-32-BYTES` per entry; blank entries and `#` comments are skipped. Entries
 * are lines of a file, or `;`-separated parts of GATEHOUSE_ENCRYPTION_KEYS. Every problem is reported
 * with where it is (`FILE:LINE` or `VARIABLE entry N`); the key bytes never appear in a message.
 */
export function parseKeys(
  text: string,
  source: { name: string; separator: "line" | "semicolon" },
): KeyEntry[] {
  const parts = text.split(source.separator === "line" ? /\r?\n/ : ";");
  const where = (i: number): string =>
    source.separator === "line" ? `${source.name}:${i + 1}` : `${source.name} entry ${i + 1}`;
  const problems: string[] = [];
  const keys: KeyEntry[] = [];
  const seen = new Set<string>();
  parts.forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const colon = line.indexOf(":");
    if (colon < 0) {
      problems.push(`${where(i)}: expected ID:BASE64-32-BYTES`);
      return;
    }
    const id = line.slice(0, colon).trim();
    const b64 = line.slice(colon + 1).trim();
    if (!KEY_ID.test(id)) {
      problems.push(
        `${where(i)}: key id must be 1-64 characters from A-Z a-z 0-9 . _ - (starting with a letter or digit)`,
      );
      return;
    }
    if (seen.has(id)) {
      problems.push(`${where(i)}: key id ${JSON.stringify(id)} appears twice`);
      return;
    }
    if (!BASE64.test(b64) || b64.length % 4 !== 0) {
      problems.push(`${where(i)}: key ${JSON.stringify(id)} is not valid base64`);
      return;
    }
    const key = Buffer.from(b64, "base64");
    if (key.length !== KEY_BYTES) {
      problems.push(
        `${where(i)}: key ${JSON.stringify(id)} is ${key.length} bytes; AES-256 keys must be exactly ${KEY_BYTES} bytes (e.g. head -c 32 /dev/urandom | base64)`,
      );
      return;
    }
    seen.add(id);
    keys.push({ id, key });
  });
  if (problems.length > 0) throw new SecretsError("MalformedKeys", problems.join("; "));
  if (keys.length === 0)
    throw new SecretsError("NoKeys", `${source.name}: no keys; add a line ID:BASE64-32-BYTES`);
  return keys;
}

/** The text of a new key file holding one key. */
export function newKeyFileText(id: string, key: Buffer): string {
  return [
    "# Gatehouse encryption keys: ID:BASE64-32-BYTES, one per line. The first key encrypts; all decrypt.",
    "# To rotate: add a new key as the first line on every replica, restart, run",
    "# `gatehouse secrets reencrypt`, then remove the old key.",
    `${id}:${key.toString("base64")}`,
    "",
  ].join("\n");
}
