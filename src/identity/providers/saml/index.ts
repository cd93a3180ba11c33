export { createSamlFactory, SAML_SECRET_FIELDS } from "./factory.js";
export { SamlProvider, defaultEntityID, REQUEST_TTL_MS, type SamlDeps } from "./provider.js";
export { SamlRefusedError, type SamlRefusal } from "./errors.js";
export { SamlMetadataError, parseIdpMetadata, type IdpMetadata } from "./metadata.js";
export { StoreReplayGuard, MemoryReplayGuard, type ReplayGuard } from "./replay.js";
export type { SamlSettings } from "./config.js";
