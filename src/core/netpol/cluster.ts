/** The model with the look-ups every evaluation needs, built once: by namespace, key and IP. */
import type { Labels } from "../k8s/index.js";
import type { IpAddress } from "./ip.js";
import { podKey, type AdminPolicy, type Model, type NetworkPolicy, type Pod } from "./types.js";

export interface Cluster {
  readonly model: Model;
  readonly pods: readonly Pod[];
  namespaceLabels(ns: string): Labels;
  podByKey(key: string): Pod | undefined;
  /** The pod (not host-network) that owns an address, so `ip:` endpoints inside the cluster are pods. */
  podByIp(ip: IpAddress): Pod | undefined;
  policiesIn(ns: string): readonly NetworkPolicy[];
  /** AdminNetworkPolicies and Admin-tier ClusterNetworkPolicies, in precedence order. */
  readonly adminTier: readonly AdminPolicy[];
  /** Baseline-tier ClusterNetworkPolicies, then the BaselineAdminNetworkPolicy, in precedence order. */
  readonly baselineTier: readonly AdminPolicy[];
}

export function ipKey(ip: IpAddress): string {
  return `${ip.family}:${ip.value.toString()}`;
}

/**
 * Policies of equal priority have no defined order upstream ("the implementation can apply any of
 * the matching policies"); we break ties by kind then name so results are at least reproducible,
 * and lint reports the overlap.
 */
export function comparePrecedence(a: AdminPolicy, b: AdminPolicy): number {
  return a.priority - b.priority || a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name);
}

export function buildCluster(model: Model): Cluster {
  const nsLabels = new Map(model.namespaces.map((n) => [n.name, n.labels]));
  const byKey = new Map(model.pods.map((p) => [podKey(p), p]));
  const byIp = new Map<string, Pod>();
  for (const p of model.pods) if (p.ip !== undefined && !p.hostNetwork) byIp.set(ipKey(p.ip), p);
  const byNs = new Map<string, NetworkPolicy[]>();
  for (const np of model.policies) {
    const list = byNs.get(np.namespace) ?? [];
    list.push(np);
    byNs.set(np.namespace, list);
  }
  const sorted = [...model.adminPolicies].sort(comparePrecedence);
  return {
    model,
    pods: model.pods,
    namespaceLabels: (ns) => nsLabels.get(ns) ?? {},
    podByKey: (k) => byKey.get(k),
    podByIp: (ip) => byIp.get(ipKey(ip)),
    policiesIn: (ns) => byNs.get(ns) ?? [],
    adminTier: sorted.filter((p) => p.tier === "Admin"),
    baselineTier: sorted.filter((p) => p.tier === "Baseline"),
  };
}
