/**
 * gatehouse/rbac: Kubernetes RBAC, evaluated exactly as kube-apiserver does, indexed for large
 * policies. See docs/rbac.md for the embedding guide.
 */
export * from "./types.js";
export type {
  Authorizer,
  MutablePolicy,
  PolicyView,
  RbacEngine,
  ResolvedRule,
  ResolvedRules,
  RoleLookup,
  RuleResolver,
} from "./engine.js";
export { RbacIndex } from "./authorizer.js";
export { LinearRbac } from "./linear.js";
export { buildIndex, loadInto, settleObjects, type BuildOptions } from "./policy.js";
export { parseRbacObject, parseRbacObjects, compactRule, type ParseRbacOptions } from "./parse.js";
export { ruleAllows, rulesAllow } from "./rule-match.js";
export { covers, breakdownRule, ruleCovers } from "./covers.js";
export {
  canCreateRole,
  canCreateBinding,
  type EscalationContext,
  type GrantCheck,
  type GrantVia,
} from "./escalation.js";
export { checkApply, type ApplyVerdict } from "./apply-check.js";
export { aggregateClusterRoles, sameRule, type AggregationResult } from "./aggregate.js";
export {
  subjectRulesReview,
  kubectlAccessList,
  type AccessRow,
  type NonResourceRule,
  type ResourceRule,
  type SubjectRulesReviewStatus,
} from "./rules-review.js";
export { whoCan, type Action, type WhoCanResult } from "./who-can.js";
export { reviewStatus, RBAC_AUTHORIZER_NAME, type SubjectAccessReviewStatus } from "./sar-review.js";
export { compactRules, compactString, sortRules } from "./compact.js";
export {
  appliesToUser,
  describeSubject,
  impersonatedUser,
  parseServiceAccountUsername,
  serviceAccountUsername,
  PRIVILEGED_GROUP,
} from "./subjects.js";
export { allowedReason, roleNotFound } from "./reasons.js";
