/** The pure audit core: policy, events, impact classes, Gatehouse event kinds, hash chain, audit2rbac. */
export * from "./types.js";
export * from "./annotations.js";
export { parsePolicy } from "./policy-parse.js";
export {
  evaluatePolicy,
  ruleMatches,
  pathMatches,
  DEFAULT_POLICY,
  policyForCluster,
  type PolicySet,
} from "./policy.js";
export * from "./event.js";
export * from "./event-trim.js";
export { parseEvent } from "./event-parse.js";
export * from "./impact.js";
export * from "./gatehouse-events.js";
export * from "./chain.js";
export * from "./audit2rbac/index.js";
export { parseSince, SinceError } from "./since.js";
