export * from "./types.js";
export { BUILTIN_ROLES, BUILTIN_ROLE_NAMES } from "./builtin-roles.js";
export {
  appliesToCluster,
  clusterVisibleTo,
  compileForCluster,
  compiledRoleName,
  teamGroupsFor,
  toRbacSubject,
} from "./compile.js";
export { MANAGED_LABEL, markManaged, planIsEmpty, planRbacSync, type RbacSyncPlan } from "./plan.js";
