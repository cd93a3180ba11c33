/**
 * Tenancy, the pure part: Tenant validation and defaults, space naming, quota arithmetic and the
 * race-free check run inside the store transaction, the objects each space holds, the access bindings
 * derived from tenants, and the isolation verdict of `tenant verify`. No I/O: src/tenancy applies it.
 */
export * from "./types.js";
export { parseQuantity, formatQuantity, sameQuantity, addHard, exceeded } from "./quantity.js";
export { parseTenant, checkSpaceName, DEFAULT_LIMIT_RANGE, TEMPLATE_KINDS } from "./validate.js";
export { checkNewSpace, tenantUsage, type Refusal, type TenantUsage } from "./quota.js";
export { isOwner, isMember, tenantUsesCluster, chooseTenant } from "./membership.js";
export {
  spaceObjects,
  collectionPath,
  inSync,
  sameJson,
  derivedAccess,
  spaceBindingName,
  TENANT_DISCOVERY_ROLE,
  type SpaceObject,
  type DerivedObject,
} from "./plan.js";
export {
  verifyTenantOnCluster,
  excludedSubject,
  tenantSubject,
  CHECKED_RESOURCES,
  CHECKED_VERBS,
  type ClusterVerification,
  type NetworkBreach,
  type RbacBreach,
  type QuotaHeadroom,
  type VerifyInput,
} from "./verify.js";
export { readNamespaceBody, type NamespaceRequest } from "./namespace-body.js";
export { dryRunOf, readDeleteOptions, DeleteOptionsError, type DeleteOptions } from "./request-options.js";
export { filterWatchEvent, jsonAccept, type WatchVerdict } from "./watch-filter.js";
