import type { RequestAttributes } from "../k8s/index.js";
import { type Policy, type PolicyRule, type RequestAuditConfig, type Stage } from "./types.js";

/**
 * Evaluate an audit policy for one request exactly as kube-apiserver's policy rule evaluator
 * (k8s.io/apiserver/pkg/audit/policy/checker.go): rules in order, the first match wins; no match
 * means level None with the policy's omitStages. A rule's omitStages is the union of its own and the
 * policy's; its omitManagedFields, when set, overrides the policy's.
 *
 * The user here is the authenticated user (audit runs before impersonation in kube-apiserver).
 */
export function evaluatePolicy(policy: Policy, attrs: RequestAttributes): RequestAuditConfig {
  for (let i = 0; i < policy.rules.length; i++) {
    const rule = policy.rules[i] as PolicyRule;
    if (ruleMatches(rule, attrs)) {
      return {
        level: rule.level,
        omitStages: sortedStages([...policy.omitStages, ...rule.omitStages]),
        omitManagedFields: rule.omitManagedFields ?? policy.omitManagedFields,
        rule: i,
      };
    }
  }
  return {
    level: "None",
    omitStages: sortedStages(policy.omitStages),
    omitManagedFields: policy.omitManagedFields,
  };
}

/** Stages deduplicated and sorted by name, so equal configurations compare equal. */
function sortedStages(stages: readonly Stage[]): Stage[] {
  return [...new Set(stages)].sort();
}

/** Whether one rule matches: every field the rule sets must match (an empty list matches anything). */
export function ruleMatches(r: PolicyRule, attrs: RequestAttributes): boolean {
  if (r.users.length > 0 && !r.users.includes(attrs.user.username)) return false;
  if (r.userGroups.length > 0 && !attrs.user.groups.some((g) => r.userGroups.includes(g))) return false;
  if (r.verbs.length > 0 && !r.verbs.includes(attrs.verb)) return false;
  if (r.namespaces.length > 0 || r.resources.length > 0) return matchesResource(r, attrs);
  if (r.nonResourceURLs.length > 0) return matchesNonResource(r, attrs);
  return true;
}

function matchesNonResource(r: PolicyRule, attrs: RequestAttributes): boolean {
  if (attrs.kind !== "nonResource") return false;
  return r.nonResourceURLs.some((spec) => pathMatches(attrs.path, spec));
}

/** "*" matches any path; otherwise an exact match, or a prefix match when the spec ends in "*". */
export function pathMatches(path: string, spec: string): boolean {
  if (spec === "*" || spec === path) return true;
  return spec.endsWith("*") && path.startsWith(spec.replace(/\*+$/, ""));
}

function matchesResource(r: PolicyRule, attrs: RequestAttributes): boolean {
  if (attrs.kind !== "resource") return false;
  // Cluster-scoped resources have the namespace "", which a rule names as "".
  if (r.namespaces.length > 0 && !r.namespaces.includes(attrs.namespace)) return false;
  if (r.resources.length === 0) return true;
  const { resource, subresource, name } = attrs;
  const combined = subresource === "" ? resource : `${resource}/${subresource}`;
  for (const gr of r.resources) {
    if (gr.group !== attrs.apiGroup) continue;
    if (gr.resources.length === 0) return true;
    if (gr.resourceNames.length > 0 && !gr.resourceNames.includes(name)) continue;
    for (const res of gr.resources) {
      if (res === "*" || res === combined) return true;
      if (subresource !== "" && res.startsWith("*/") && res.slice(2) === subresource) return true;
      // "pods/*" matches pods and every subresource of pods (kube-apiserver compares the bare resource).
      if (res.endsWith("/*") && res.slice(0, -2) === resource) return true;
    }
  }
  return false;
}

/**
 * Used when neither a global nor a cluster policy is configured: every request at Metadata.
 * Gatehouse audits by default (kube-apiserver audits nothing without a policy file); Metadata never
 * records bodies, so the default cannot leak secrets into the store.
 */
export const DEFAULT_POLICY: Policy = Object.freeze({
  rules: Object.freeze([
    Object.freeze({
      level: "Metadata" as const,
      users: [],
      userGroups: [],
      verbs: [],
      resources: [],
      namespaces: [],
      nonResourceURLs: [],
      omitStages: [],
    }),
  ]),
  omitStages: Object.freeze([]),
  omitManagedFields: false,
});

/** Policies configured for a Gatehouse: one global, and optionally one per cluster. */
export interface PolicySet {
  global?: Policy;
  clusters?: Readonly<Record<string, Policy>>;
}

/** The policy for a cluster's requests: its own when set (it replaces the global one), else the global one. */
export function policyForCluster(set: PolicySet, cluster: string | undefined): Policy {
  // Object.hasOwn: a cluster named "constructor" must not pick up Object.prototype members.
  const own =
    cluster !== undefined && set.clusters && Object.hasOwn(set.clusters, cluster)
      ? set.clusters[cluster]
      : undefined;
  return own ?? set.global ?? DEFAULT_POLICY;
}
