/**
 * Rules review: what a SelfSubjectRulesReview returns for a user in a namespace when RBAC is the
 * authorizer (RBACAuthorizer.RulesFor + the selfsubjectrulesreview REST handler): every rule from
 * every applying binding, split into resource rules (rules with resources) and non-resource rules
 * (rules with URLs), in evaluation order. RBAC never reports `incomplete`; missing roles show up as
 * the evaluation error. system:masters gets nothing extra here, as in Kubernetes.
 *
 * kubectlAccessList turns that into the rows `kubectl auth can-i --list` prints.
 */
import type { UserInfo } from "../k8s/attributes.js";
import { breakdownRule } from "./covers.js";
import { compactRules, sortRules } from "./compact.js";
import type { RuleResolver } from "./engine.js";
import { aggregateErrors } from "./reasons.js";
import type { PolicyRule } from "./types.js";

export interface ResourceRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
}

export interface NonResourceRule {
  verbs: string[];
  nonResourceURLs?: string[];
}

/** authorization.k8s.io/v1 SubjectRulesReviewStatus. */
export interface SubjectRulesReviewStatus {
  resourceRules: ResourceRule[];
  nonResourceRules: NonResourceRule[];
  incomplete: boolean;
  evaluationError?: string;
}

export function subjectRulesReview(
  r: RuleResolver,
  user: UserInfo,
  namespace: string,
): SubjectRulesReviewStatus {
  const { rules, errors } = r.rulesFor(user, namespace);
  const status: SubjectRulesReviewStatus = { resourceRules: [], nonResourceRules: [], incomplete: false };
  for (const { rule } of rules) {
    if ((rule.resources ?? []).length > 0) {
      const rr: ResourceRule = { verbs: [...rule.verbs] };
      if ((rule.apiGroups ?? []).length > 0) rr.apiGroups = [...(rule.apiGroups ?? [])];
      rr.resources = [...(rule.resources ?? [])];
      if ((rule.resourceNames ?? []).length > 0) rr.resourceNames = [...(rule.resourceNames ?? [])];
      status.resourceRules.push(rr);
    }
    if ((rule.nonResourceURLs ?? []).length > 0) {
      status.nonResourceRules.push({
        verbs: [...rule.verbs],
        nonResourceURLs: [...(rule.nonResourceURLs ?? [])],
      });
    }
  }
  if (errors.length > 0) status.evaluationError = aggregateErrors(errors);
  return status;
}

export interface AccessRow {
  /** "pods", "deployments.apps", "pods/log", "" for URL rows (kubectl's CombineResourceGroup) */
  resource: string;
  nonResourceURLs: string[];
  resourceNames: string[];
  verbs: string[];
}

/** As `kubectl auth can-i --list`: break rules down, compact them, sort them. */
export function kubectlAccessList(status: SubjectRulesReviewStatus): AccessRow[] {
  const all: PolicyRule[] = [
    ...status.resourceRules.map((r) => ({ ...r })),
    ...status.nonResourceRules.map((r) => ({ ...r })),
  ];
  const rows = sortRules(compactRules(all.flatMap(breakdownRule)));
  return rows.map((r) => ({
    resource: combineResourceGroup(r.resources ?? [], r.apiGroups ?? []),
    nonResourceURLs: [...(r.nonResourceURLs ?? [])],
    resourceNames: [...(r.resourceNames ?? [])],
    verbs: [...r.verbs],
  }));
}

function combineResourceGroup(resources: readonly string[], groups: readonly string[]): string {
  const first = resources[0];
  if (first === undefined) return "";
  const slash = first.indexOf("/");
  let out = slash < 0 ? first : first.slice(0, slash);
  if (groups[0] !== undefined && groups[0] !== "") out += `.${groups[0]}`;
  if (slash >= 0) out += first.slice(slash);
  return out;
}
