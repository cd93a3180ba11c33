import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from "node:crypto";
import { SecretsError } from "./errors.js";
import { KEY_BYTES, type KeyEntry } from "./keyfile.js";

const VERSION = "v1";
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM for small secrets (tokens, private keys) stored in the database. Several keys with ids;
 * the first is primary and encrypts, every key decrypts. A ciphertext is self-describing,
 * `v1:<keyId>:<base64 nonce>:<base64 ciphertext+tag>`, so rotation needs no bookkeeping: a value
 * says which key opens it. The associated data (e.g. `Cluster/prod/credentials`) is authenticated
 * but not stored: a ciphertext copied to another object, or another field, no longer opens.
 *
 * Key bytes live in KeyObjects in private fields, so neither logging nor JSON.stringify of a KeyRing
 * shows them.
 */
export class KeyRing {
  readonly #keys: ReadonlyMap<string, KeyObject>;
  readonly #random: (n: number) => Buffer;
  /** The id of the key that encrypts. */
  readonly primaryKeyId: string;

  private constructor(keys: Map<string, KeyObject>, primary: string, random: (n: number) => Buffer) {
    this.#keys = keys;
    this.primaryKeyId = primary;
    this.#random = random;
  }

  /** A key ring from entries in order (the first is primary); `random` gives nonces. */
  static create(entries: readonly KeyEntry[], random: (n: number) => Buffer = randomBytes): KeyRing {
    const first = entries[0];
    if (!first) throw new SecretsError("NoKeys", "a key ring needs at least one key");
    const keys = new Map<string, KeyObject>();
    for (const e of entries) {
      if (e.key.length !== KEY_BYTES)
        throw new SecretsError("MalformedKeys", `key ${JSON.stringify(e.id)} must be ${KEY_BYTES} bytes`);
      if (keys.has(e.id))
        throw new SecretsError("MalformedKeys", `key id ${JSON.stringify(e.id)} appears twice`);
      keys.set(e.id, createSecretKey(Buffer.from(e.key)));
    }
    return new KeyRing(keys, first.id, random);
  }

  /** Every key id, primary first. */
  keyIds(): string[] {
    return [...this.#keys.keys()];
  }

  /** Encrypt under the primary key, bound to `aad` (what the secret belongs to). */
  seal(plaintext: string, aad: string): string {
    const key = this.#keys.get(this.primaryKeyId) as KeyObject;
    const nonce = this.#random(NONCE_BYTES);
    const cipher = createCipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(aad, "utf8"));
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final(), cipher.getAuthTag()]);
    return `${VERSION}:${this.primaryKeyId}:${nonce.toString("base64")}:${body.toString("base64")}`;
  }

  /** Decrypt a value sealed with `aad`; fails (never returns garbage) on any mismatch. */
  open(ciphertext: string, aad: string): string {
    const { keyId, nonce, body } = split(ciphertext, aad);
    const key = this.#keys.get(keyId);
    if (!key)
      throw new SecretsError(
        "UnknownKey",
        `cannot decrypt ${aad}: it was encrypted with key ${JSON.stringify(keyId)}, which is not in the key ring (keys: ${this.keyIds().join(", ")})`,
      );
    const decipher = createDecipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(aad, "utf8"));
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    try {
      return Buffer.concat([
        decipher.update(body.subarray(0, body.length - TAG_BYTES)),
        decipher.final(),
      ]).toString("utf8");
    } catch {
      throw new SecretsError(
        "DecryptionFailed",
        `cannot decrypt ${aad}: authentication failed (the value was altered, or it belongs to another object)`,
      );
    }
  }

  /** The id of the key a ciphertext was sealed with. */
  keyIdOf(ciphertext: string): string {
    return split(ciphertext, "a stored secret").keyId;
  }

  /** Whether a ciphertext is sealed with the primary key (re-encryption can skip it). */
  isCurrent(ciphertext: string): boolean {
    return this.keyIdOf(ciphertext) === this.primaryKeyId;
  }

  /** Open and seal again under the primary key. */
  reseal(ciphertext: string, aad: string): string {
    return this.seal(this.open(ciphertext, aad), aad);
  }

  toJSON(): { primaryKeyId: string; keyIds: string[] } {
    return { primaryKeyId: this.primaryKeyId, keyIds: this.keyIds() };
  }
}

/** Whether a value looks like a sealed secret (for validation of stored shapes). */
export function isSealed(value: unknown): value is string {
  return typeof value === "string" && /^v1:[^:]+:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/.test(value);
}

function split(ciphertext: string, what: string): { keyId: string; nonce: Buffer; body: Buffer } {
  const parts = ciphertext.split(":");
  const [version, keyId, nonceB64, bodyB64] = parts;
  if (parts.length !== 4 || version !== VERSION || !keyId || !nonceB64 || !bodyB64)
    throw new SecretsError("MalformedCiphertext", `cannot decrypt ${what}: not a ${VERSION} ciphertext`);
  const nonce = Buffer.from(nonceB64, "base64");
  const body = Buffer.from(bodyB64, "base64");
  if (nonce.length !== NONCE_BYTES || body.length < TAG_BYTES)
    throw new SecretsError("MalformedCiphertext", `cannot decrypt ${what}: truncated ciphertext`);
  return { keyId, nonce, body };
}
