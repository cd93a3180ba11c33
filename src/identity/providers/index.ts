export * from "./types.js";
export {
  DEFAULT_TIMEOUT_SECONDS,
  IDENTITY_PROVIDER_KIND,
  PROVIDER_TYPES,
  mapGroups,
  type ProviderSpec,
} from "./common.js";
export { identityProviderKind, identityProviderSealedKind, secretAad } from "./kind.js";
export { ProviderRegistry, providerFactories, type ProviderInfo } from "./registry.js";
export { PendingSignIns, PENDING_LIFETIME_MS, type CliRequest } from "./pending.js";
export { UpstreamSessions } from "./upstream.js";
export { upsertExternalUser, externalLinkOf, EXTERNAL_USER_KIND, type UpsertResult } from "./users.js";
export { loadProviderFiles, applyProviderFiles } from "./files.js";
