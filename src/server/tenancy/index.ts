/**
 * Tenancy, the shell: the space store (race-free reservations), the space service (create, delete,
 * reconcile with Gatehouse's cluster credential), the reconciler, the gateway hook for kubectl
 * namespace create/list/watch/delete, the spaces and verify API, and live reads of cluster objects.
 */
export {
  SpaceStore,
  SpaceRefused,
  SPACE_KIND,
  TENANT_KIND,
  tenantStatus,
  type StoredSpace,
} from "./space-store.js";
export { TenancyService, type TenancyDeps, type SpaceRequest } from "./service.js";
export { startTenancyReconciler, type TenancyReconciler, type TenancyRunResult } from "./reconciler.js";
export { tenancyGateway, type TenancyGateway } from "./gateway-hook.js";
export { addTenancyRoutes, spaceObject, tenantReadable } from "./routes.js";
export { verifyTenant, listWith, type TenantVerification } from "./verify.js";
export { readNetpolObjects, readRbacObjects, servedGroupVersions, type ListFn } from "./live.js";
