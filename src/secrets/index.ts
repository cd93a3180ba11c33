export { SecretsError, type SecretsErrorCode } from "./errors.js";
export { KEY_BYTES, newKeyFileText, parseKeys, type KeyEntry } from "./keyfile.js";
export { KeyRing, isSealed } from "./keyring.js";
export { KEYS_ENV, loadKeyRing, readKeys, type KeySource } from "./load.js";
export { reencryptAll, type ReencryptResult, type SealedKind } from "./reencrypt.js";
export { addReencryptRoute } from "./api.js";
