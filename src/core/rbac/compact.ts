/**
 * Rule display as kubectl and kube-apiserver do it: CompactRules (merge single-resource rules that
 * differ only by verb; k8s.io/kubectl/pkg/util/rbac), the PolicyRule String() order kubectl sorts
 * `auth can-i --list` by, and CompactString (escalation error messages).
 */
import { goCompare, goList, goQuoteList } from "./go-quote.js";
import type { PolicyRule } from "./types.js";

const EMPTY: readonly string[] = [];

function isSimple(r: PolicyRule): boolean {
  return (
    (r.resourceNames ?? EMPTY).length <= 1 &&
    (r.nonResourceURLs ?? EMPTY).length === 0 &&
    (r.apiGroups ?? EMPTY).length === 1 &&
    (r.resources ?? EMPTY).length === 1
  );
}

/** CompactRules: one rule per group/resource/name with the verbs merged in first-seen order. */
export function compactRules(rules: readonly PolicyRule[]): PolicyRule[] {
  const compacted: PolicyRule[] = [];
  const simple = new Map<string, { rule: PolicyRule; verbs: string[] }>();
  for (const r of rules) {
    if (!isSimple(r)) {
      compacted.push(r);
      continue;
    }
    const names = r.resourceNames ?? EMPTY;
    const key = JSON.stringify([r.apiGroups?.[0], r.resources?.[0], names.length > 0, names[0] ?? ""]);
    const have = simple.get(key);
    if (!have) {
      simple.set(key, { rule: r, verbs: [...r.verbs] });
      continue;
    }
    for (const v of r.verbs) if (!have.verbs.includes(v)) have.verbs.push(v);
  }
  for (const { rule, verbs } of simple.values()) compacted.push({ ...rule, verbs });
  return compacted;
}

/** The generated PolicyRule.String(): `&PolicyRule{Verbs:[get],APIGroups:[],...}`. */
export function policyRuleString(r: PolicyRule): string {
  return (
    `&PolicyRule{Verbs:${goList(r.verbs)},APIGroups:${goList(r.apiGroups ?? EMPTY)},` +
    `Resources:${goList(r.resources ?? EMPTY)},ResourceNames:${goList(r.resourceNames ?? EMPTY)},` +
    `NonResourceURLs:${goList(r.nonResourceURLs ?? EMPTY)},}`
  );
}

/** kubectl's SortableRuleSlice order (stable). */
export function sortRules(rules: readonly PolicyRule[]): PolicyRule[] {
  return rules
    .map((r, i) => ({ r, i, s: policyRuleString(r) }))
    .sort((x, y) => goCompare(x.s, y.s) || x.i - y.i)
    .map((x) => x.r);
}

/** CompactString: `{APIGroups:["apps"], Resources:["deployments"], Verbs:["get"]}`. */
export function compactString(r: PolicyRule): string {
  const parts: string[] = [];
  if ((r.apiGroups ?? EMPTY).length > 0) parts.push(`APIGroups:${goQuoteList(r.apiGroups ?? EMPTY)}`);
  if ((r.resources ?? EMPTY).length > 0) parts.push(`Resources:${goQuoteList(r.resources ?? EMPTY)}`);
  if ((r.nonResourceURLs ?? EMPTY).length > 0)
    parts.push(`NonResourceURLs:${goQuoteList(r.nonResourceURLs ?? EMPTY)}`);
  if ((r.resourceNames ?? EMPTY).length > 0)
    parts.push(`ResourceNames:${goQuoteList(r.resourceNames ?? EMPTY)}`);
  if (r.verbs.length > 0) parts.push(`Verbs:${goQuoteList(r.verbs)}`);
  return `{${parts.join(", ")}}`;
}
