import { appliesToCluster } from "../access/compile.js";
import type { ClusterFacts } from "../access/types.js";
import { addHard, exceeded, formatQuantity } from "./quantity.js";
import type { Space, Tenant } from "./types.js";

export type Refusal =
  | { code: "ClusterNotAllowed"; message: string }
  | { code: "MaxSpaces"; message: string }
  | { code: "QuotaExceeded"; message: string }
  | { code: "AlreadyExists"; message: string };

/**
 * Whether one more space fits the tenant: the cluster is one the tenant may use, the space count
 * stays within maxSpaces, and the sum of every space's quota stays within the per-cluster and total
 * limits. `existing` is every space of every tenant (for the name check); run it inside the store
 * transaction that inserts the space, so two racing requests cannot both fit.
 */
export function checkNewSpace(
  t: Tenant,
  cluster: ClusterFacts,
  space: Space,
  existing: readonly Space[],
): Refusal | undefined {
  if (!appliesToCluster({ name: "", subjects: [], roleRef: { name: "" }, clusters: t.clusters }, cluster))
    return { code: "ClusterNotAllowed", message: `tenant ${t.name} may not use cluster ${cluster.name}` };
  if (existing.some((s) => s.cluster === space.cluster && s.namespace === space.namespace))
    return { code: "AlreadyExists", message: `namespaces "${space.namespace}" already exists` };
  const mine = existing.filter((s) => s.tenant === t.name);
  if (t.maxSpaces !== undefined && mine.length + 1 > t.maxSpaces)
    return {
      code: "MaxSpaces",
      message: `tenant ${t.name} has ${mine.length} of at most ${t.maxSpaces} spaces; delete one first or ask for a higher spec.maxSpaces`,
    };
  const per = t.quota.space ?? {};
  const sum = (n: number): Map<string, bigint> => {
    const m = addHard(Array.from({ length: n }, () => per));
    m.set("spaces", BigInt(n) * 1000n);
    return m;
  };
  const onCluster = mine.filter((s) => s.cluster === space.cluster).length + 1;
  const perCluster = exceeded(sum(onCluster), t.quota.perCluster ?? {});
  if (perCluster.length > 0)
    return {
      code: "QuotaExceeded",
      message: `exceeded tenant ${t.name}'s quota on cluster ${space.cluster}: ${perCluster.join(", ")}`,
    };
  const total = exceeded(sum(mine.length + 1), t.quota.total ?? {});
  if (total.length > 0)
    return { code: "QuotaExceeded", message: `exceeded tenant ${t.name}'s total quota: ${total.join(", ")}` };
  return undefined;
}

export interface TenantUsage {
  spaces: number;
  /** Per cluster: the summed space quotas (as quantities) and the space count. */
  perCluster: Record<string, Record<string, string>>;
  total: Record<string, string>;
}

/** What the tenant's spaces reserve, for Tenant.status.usage and `tenant verify`. */
export function tenantUsage(t: Tenant, spaces: readonly Space[]): TenantUsage {
  const mine = spaces.filter((s) => s.tenant === t.name);
  const fmt = (n: number): Record<string, string> => {
    const m = addHard(Array.from({ length: n }, () => t.quota.space ?? {}));
    const out: Record<string, string> = { spaces: String(n) };
    for (const [k, v] of m) out[k] = formatQuantity(v);
    return out;
  };
  const perCluster: Record<string, Record<string, string>> = {};
  for (const c of [...new Set(mine.map((s) => s.cluster))].sort())
    perCluster[c] = fmt(mine.filter((s) => s.cluster === c).length);
  return { spaces: mine.length, perCluster, total: fmt(mine.length) };
}
