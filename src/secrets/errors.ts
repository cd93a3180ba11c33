/**
 * Failures of the secrets component, with a closed set of codes. Messages name files, lines, key ids
 * and the object a secret belongs to, never key material, plaintext or ciphertext.
 */
export type SecretsErrorCode =
  /** A key file or GATEHOUSE_ENCRYPTION_KEYS entry is not `ID:BASE64-32-BYTES`. */
  | "MalformedKeys"
  /** No key at all: a key ring needs at least one. */
  | "NoKeys"
  /** A key file cannot be read or created. */
  | "Unreadable"
  /** A ciphertext names a key id the key ring does not hold (removed too early?). */
  | "UnknownKey"
  /** A stored value is not a `v1:KEYID:NONCE:CIPHERTEXT` string. */
  | "MalformedCiphertext"
  /** Authentication failed: wrong key, tampered bytes, or a ciphertext moved to another object. */
  | "DecryptionFailed";

export class SecretsError extends Error {
  constructor(
    readonly code: SecretsErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "SecretsError";
  }
}
