/**
 * audit2rbac: least-privilege RBAC from what a user did, after liggitt/audit2rbac, plus existing
 * objects as input (emit only what is missing), explanations, and several users per run.
 */
export {
  audit2rbac,
  Audit2rbacError,
  type Audit2rbacInput,
  type RuleExplanation,
  type SubjectResult,
} from "./build.js";
export { DEFAULT_VERB_EXPANSIONS, generateRules, type ExpandOptions, type RawRules } from "./generate.js";
export { compactGeneratedRules } from "./compact.js";
export { DEFAULT_ACCESS } from "./defaults.js";
export {
  DEFAULT_ANNOTATIONS,
  DEFAULT_LABELS,
  DEFAULT_NAME,
  generatedMeta,
  sanitizeLabel,
  sanitizeName,
  subjectFor,
} from "./naming.js";
export {
  actingUser,
  eventAttributes,
  observedRequests,
  type EventFilter,
  type ObservedRequest,
} from "./requests.js";
export { sortRequests } from "./sort.js";
export { renderExplanations, renderJson, renderYaml, summary } from "./render.js";
