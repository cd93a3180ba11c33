/**
 * Whether one set of rules covers another, as Kubernetes decides it for escalation prevention
 * (k8s.io/component-helpers/auth/rbac/validation Covers): every requested rule is broken down to one
 * verb, group, resource and name (or one URL and verb), and each piece must be covered by a single
 * owner rule. Coverage is its own logic, not request matching: "*\/scale" in the owner covers
 * "deployments/scale", resourceNames in the owner cover only requests that name those names.
 */
import type { PolicyRule } from "./types.js";

const EMPTY: readonly string[] = [];

/** BreakdownRule: one verb, group, resource and name per rule; URLs combine only with verbs. */
export function breakdownRule(rule: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  const names = rule.resourceNames ?? EMPTY;
  for (const group of rule.apiGroups ?? EMPTY) {
    for (const resource of rule.resources ?? EMPTY) {
      for (const verb of rule.verbs) {
        if (names.length > 0) {
          for (const name of names)
            out.push({ verbs: [verb], apiGroups: [group], resources: [resource], resourceNames: [name] });
        } else {
          out.push({ verbs: [verb], apiGroups: [group], resources: [resource] });
        }
      }
    }
  }
  for (const url of rule.nonResourceURLs ?? EMPTY) {
    for (const verb of rule.verbs) out.push({ verbs: [verb], nonResourceURLs: [url] });
  }
  return out;
}

/**
 * The requested rules' pieces that no owner rule covers; empty means the owner rules cover them
 * all (Kubernetes' Covers returns the same list and `len == 0`).
 */
export function covers(owner: readonly PolicyRule[], requested: readonly PolicyRule[]): PolicyRule[] {
  const uncovered: PolicyRule[] = [];
  for (const req of requested) {
    for (const piece of breakdownRule(req)) {
      if (!owner.some((o) => ruleCovers(o, piece))) uncovered.push(piece);
    }
  }
  return uncovered;
}

function hasAll(set: readonly string[], wanted: readonly string[]): boolean {
  return wanted.every((w) => set.includes(w));
}

function resourcesCover(owner: readonly string[], wanted: readonly string[]): boolean {
  if (owner.includes("*") || hasAll(owner, wanted)) return true;
  for (const path of wanted) {
    if (owner.includes(path)) continue;
    const slash = path.indexOf("/");
    if (slash < 0) return false;
    if (!owner.includes(`*/${path.slice(slash + 1)}`)) return false;
  }
  return true;
}

function urlCovers(ownerPath: string, path: string): boolean {
  if (ownerPath === path) return true;
  if (!ownerPath.endsWith("*")) return false;
  let end = ownerPath.length;
  while (end > 0 && ownerPath[end - 1] === "*") end--;
  return path.startsWith(ownerPath.slice(0, end));
}

function urlsCover(owner: readonly string[], wanted: readonly string[]): boolean {
  return wanted.every((w) => owner.some((o) => urlCovers(o, w)));
}

/** ruleCovers: the owner rule (any size) covers the piece (at most one of each). */
export function ruleCovers(owner: PolicyRule, piece: PolicyRule): boolean {
  const ownerNames = owner.resourceNames ?? EMPTY;
  const pieceNames = piece.resourceNames ?? EMPTY;
  const verbs = owner.verbs.includes("*") || hasAll(owner.verbs, piece.verbs);
  const groups =
    (owner.apiGroups ?? EMPTY).includes("*") || hasAll(owner.apiGroups ?? EMPTY, piece.apiGroups ?? EMPTY);
  const resources = resourcesCover(owner.resources ?? EMPTY, piece.resources ?? EMPTY);
  const urls = urlsCover(owner.nonResourceURLs ?? EMPTY, piece.nonResourceURLs ?? EMPTY);
  const names =
    pieceNames.length === 0
      ? ownerNames.length === 0
      : ownerNames.length === 0 || hasAll(ownerNames, pieceNames);
  return verbs && groups && resources && names && urls;
}
