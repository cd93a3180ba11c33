import {
  breakdownRule,
  compactRules as compactByVerb,
  compactString,
  type PolicyRule,
} from "../../rbac/index.js";

/**
 * audit2rbac's rule compaction (pkg/util.go compactRules): break every rule down to one verb,
 * group, resource and name; merge pieces differing only by verb (verbs sorted, deduplicated); then
 * merge rules differing only by resourceNames, or only by resources; sort by API groups, then by
 * CompactString.
 *
 * One deliberate difference: audit2rbac merges a rule without resourceNames into an otherwise equal
 * rule with names (silently narrowing it to those names); here rules merge by names only when both
 * have names.
 */
export function compactGeneratedRules(rules: readonly PolicyRule[]): PolicyRule[] {
  const pieces = rules.flatMap(breakdownRule);
  const byVerb = compactByVerb(pieces).map((r) => ({
    ...r,
    verbs: [...new Set(r.verbs)].sort(codePointCompare),
  }));
  const acc: PolicyRule[] = [];
  for (const rule of byVerb) {
    if ((rule.resources ?? []).length === 0) {
      acc.push(rule);
      continue;
    }
    const j = acc.findIndex((a) => (a.resources ?? []).length > 0 && mergeable(a, rule));
    if (j < 0) {
      acc.push(rule);
      continue;
    }
    const a = acc[j] as PolicyRule;
    acc[j] =
      sameExcept(a, rule, "resourceNames") && (a.resourceNames ?? []).length > 0
        ? withList(a, "resourceNames", union(a.resourceNames, rule.resourceNames))
        : withList(a, "resources", union(a.resources, rule.resources));
  }
  return acc
    .map((r, i) => ({ r, i, g: (r.apiGroups ?? []).join(","), s: compactString(r) }))
    .sort((x, y) => codePointCompare(x.g, y.g) || codePointCompare(x.s, y.s) || x.i - y.i)
    .map((x) => printOrder(x.r));
}

/** A rule with its fields in the order kubectl and audit2rbac print them (alphabetical). */
function printOrder(r: PolicyRule): PolicyRule {
  return {
    ...(r.apiGroups !== undefined ? { apiGroups: r.apiGroups } : {}),
    ...(r.nonResourceURLs !== undefined ? { nonResourceURLs: r.nonResourceURLs } : {}),
    ...(r.resourceNames !== undefined ? { resourceNames: r.resourceNames } : {}),
    ...(r.resources !== undefined ? { resources: r.resources } : {}),
    verbs: r.verbs,
  };
}

function mergeable(a: PolicyRule, b: PolicyRule): boolean {
  const byNames = sameExcept(a, b, "resourceNames");
  const bothNamed = (a.resourceNames ?? []).length > 0 && (b.resourceNames ?? []).length > 0;
  return (byNames && bothNamed) || sameExcept(a, b, "resources");
}

type ListField = "verbs" | "apiGroups" | "resources" | "resourceNames" | "nonResourceURLs";
const FIELDS: readonly ListField[] = ["verbs", "apiGroups", "resources", "resourceNames", "nonResourceURLs"];

function sameExcept(a: PolicyRule, b: PolicyRule, except: ListField): boolean {
  return FIELDS.every((f) => f === except || sameList(a[f], b[f]));
}

function sameList(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  const x = a ?? [];
  const y = b ?? [];
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

function union(a: readonly string[] | undefined, b: readonly string[] | undefined): string[] {
  return [...new Set([...(a ?? []), ...(b ?? [])])].sort(codePointCompare);
}

function withList(r: PolicyRule, field: ListField, values: string[]): PolicyRule {
  return { ...r, [field]: values };
}

/** Go's string order (UTF-8 bytes, i.e. code points), which sets.String.List() and sort use. */
export function codePointCompare(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = (x[i]?.codePointAt(0) ?? 0) - (y[i]?.codePointAt(0) ?? 0);
    if (d !== 0) return d;
  }
  return x.length - y.length;
}
