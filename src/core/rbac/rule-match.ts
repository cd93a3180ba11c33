/**
 * Whether one PolicyRule allows one request, exactly as kube-apiserver's RBAC authorizer decides it
 * (plugin/pkg/auth/authorizer/rbac RuleAllows and pkg/apis/rbac/v1 evaluation helpers).
 *
 * This is the plain, obviously-correct form: the linear evaluator uses it directly, and the compiled
 * matcher (compiled-role.ts) is checked against it by property tests.
 *
 * Wildcards, as Kubernetes has them and no more:
 * - verbs "*", apiGroups "*", resources "*";
 * - a resource "*\/sub" matches subresource "sub" of any resource;
 * - "res/sub" matches exactly; "res/*" is NOT a wildcard (it matches only a subresource literally "*");
 * - resourceNames empty means any name (including none);
 * - nonResourceURLs "*" matches any path; "/prefix*" matches paths starting with "/prefix".
 */
import type { RequestAttributes } from "../k8s/attributes.js";
import type { PolicyRule } from "./types.js";

const EMPTY: readonly string[] = [];

export function verbMatches(rule: PolicyRule, verb: string): boolean {
  return rule.verbs.some((v) => v === "*" || v === verb);
}

export function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  return (rule.apiGroups ?? EMPTY).some((g) => g === "*" || g === group);
}

export function resourceMatches(rule: PolicyRule, combined: string, subresource: string): boolean {
  for (const r of rule.resources ?? EMPTY) {
    if (r === "*" || r === combined) return true;
    if (subresource !== "" && r === `*/${subresource}`) return true;
  }
  return false;
}

export function resourceNameMatches(rule: PolicyRule, name: string): boolean {
  const names = rule.resourceNames ?? EMPTY;
  return names.length === 0 || names.includes(name);
}

/** A rule URL ending in "*" is a prefix: every trailing "*" is dropped (Go's strings.TrimRight). */
export function nonResourceURLMatches(rule: PolicyRule, path: string): boolean {
  for (const u of rule.nonResourceURLs ?? EMPTY) {
    if (u === "*" || u === path) return true;
    if (u.endsWith("*") && path.startsWith(trimStars(u))) return true;
  }
  return false;
}

export function trimStars(u: string): string {
  let end = u.length;
  while (end > 0 && u.charCodeAt(end - 1) === 42 /* * */) end--;
  return u.slice(0, end);
}

/** "pods" or "pods/log": the resource string rules are compared with. */
export function combinedResource(resource: string, subresource: string): string {
  return subresource === "" ? resource : `${resource}/${subresource}`;
}

export function ruleAllows(a: RequestAttributes, rule: PolicyRule): boolean {
  if (a.kind === "resource") {
    return (
      verbMatches(rule, a.verb) &&
      apiGroupMatches(rule, a.apiGroup) &&
      resourceMatches(rule, combinedResource(a.resource, a.subresource), a.subresource) &&
      resourceNameMatches(rule, a.name)
    );
  }
  return verbMatches(rule, a.verb) && nonResourceURLMatches(rule, a.path);
}

export function rulesAllow(a: RequestAttributes, rules: readonly PolicyRule[]): boolean {
  return rules.some((r) => ruleAllows(a, r));
}
