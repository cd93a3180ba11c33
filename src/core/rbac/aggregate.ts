/**
 * ClusterRole aggregation, computed as kube-controller-manager's clusterrole-aggregation controller
 * fills it in (pkg/controller/clusterroleaggregation): for an aggregating role, for each selector in
 * order, the matching ClusterRoles sorted by name (the role itself skipped), each of their current
 * rules appended unless an equal rule is already there. The result replaces the role's rules.
 *
 * The controller re-runs every aggregating role whenever any ClusterRole changes, so roles that
 * aggregate aggregated roles (admin ← edit ← view) settle at a fixed point; this repeats passes in
 * name order until nothing changes. Cycles have no order-independent answer in Kubernetes either;
 * they stop after one pass per aggregating role, reported as not converged.
 */
import { matchesSelector, validateSelector } from "../k8s/labels.js";
import { goCompare } from "./go-quote.js";
import type { ClusterRole, PolicyRule } from "./types.js";

const EMPTY: readonly string[] = [];

function sameList(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  const x = a ?? EMPTY;
  const y = b ?? EMPTY;
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** equality.Semantic.DeepEqual for rules: same lists in the same order; absent equals empty. */
export function sameRule(a: PolicyRule, b: PolicyRule): boolean {
  return (
    sameList(a.verbs, b.verbs) &&
    sameList(a.apiGroups, b.apiGroups) &&
    sameList(a.resources, b.resources) &&
    sameList(a.resourceNames, b.resourceNames) &&
    sameList(a.nonResourceURLs, b.nonResourceURLs)
  );
}

function sameRules(a: readonly PolicyRule[], b: readonly PolicyRule[]): boolean {
  return a.length === b.length && a.every((r, i) => sameRule(r, b[i] as PolicyRule));
}

export interface AggregationResult {
  /** Every input ClusterRole, aggregating ones with their rules filled in; input order kept. */
  clusterRoles: ClusterRole[];
  /** Names of the roles that have an aggregationRule. */
  aggregated: string[];
  converged: boolean;
}

export function aggregateClusterRoles(input: readonly ClusterRole[]): AggregationResult {
  const rules = new Map<string, readonly PolicyRule[]>();
  for (const r of input) rules.set(r.metadata.name, r.rules);
  const byName = [...input].sort((a, b) => goCompare(a.metadata.name, b.metadata.name));
  const aggregating = byName.filter((r) => r.aggregationRule !== undefined);

  let converged = false;
  for (let pass = 0; pass <= aggregating.length && !converged; pass++) {
    converged = true;
    for (const target of aggregating) {
      // An invalid selector makes the controller fail the sync: the role keeps its rules.
      if (
        (target.aggregationRule?.clusterRoleSelectors ?? []).some((s) => validateSelector(s, "").length > 0)
      )
        continue;
      const next = gather(target, byName, rules);
      if (!sameRules(next, rules.get(target.metadata.name) ?? [])) {
        rules.set(target.metadata.name, next);
        converged = false;
      }
    }
  }
  const names = new Set(aggregating.map((r) => r.metadata.name));
  return {
    clusterRoles: input.map((r) =>
      names.has(r.metadata.name) ? { ...r, rules: rules.get(r.metadata.name) ?? [] } : r,
    ),
    aggregated: aggregating.map((r) => r.metadata.name),
    converged,
  };
}

function gather(
  target: ClusterRole,
  byName: readonly ClusterRole[],
  rules: ReadonlyMap<string, readonly PolicyRule[]>,
): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const selector of target.aggregationRule?.clusterRoleSelectors ?? []) {
    for (const candidate of byName) {
      if (candidate.metadata.name === target.metadata.name) continue;
      if (!matchesSelector(selector, candidate.metadata.labels ?? {})) continue;
      for (const rule of rules.get(candidate.metadata.name) ?? []) {
        if (!out.some((r) => sameRule(r, rule))) out.push(rule);
      }
    }
  }
  return out;
}
