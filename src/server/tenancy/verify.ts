import { buildCluster, parseModel } from "../../core/netpol/index.js";
import { tenantUsage, verifyTenantOnCluster, type ClusterVerification } from "../../core/tenancy/index.js";
import { KubeApiError, type KubeClient } from "../../clusters/kube-client.js";
import type { ClusterRegistry } from "../../clusters/types.js";
import { HttpError } from "../errors.js";
import { gatehouseClient } from "./kube.js";
import { readNetpolObjects, readRbacObjects, type ListFn } from "./live.js";
import type { SpaceStore } from "./space-store.js";

export interface TenantVerification {
  apiVersion: "gatehouse.io/v1alpha1";
  kind: "TenantVerification";
  metadata: { name: string };
  status: {
    isolated: boolean;
    clusters: ClusterVerification[];
    /** Cluster names that could not be read, with why (counted as not verified: isolated is false). */
    errors: { cluster: string; message: string }[];
    spaces: { count: number; max?: number };
    usage: ReturnType<typeof tenantUsage>;
    limits: { perCluster?: Record<string, string>; total?: Record<string, string> };
  };
}

export function listWith(client: KubeClient): ListFn {
  return async (path) => {
    try {
      return (await client.list<Record<string, unknown>>(path)).items;
    } catch (e) {
      if (e instanceof KubeApiError && e.httpCode === 404) return undefined;
      throw e;
    }
  };
}

/**
 * `tenant verify`: read each cluster the tenant has spaces on (or the one asked for) with Gatehouse's
 * credential, and judge isolation with the simulator and the RBAC engine (core/tenancy/verify.ts).
 */
export async function verifyTenant(
  deps: { spaces: SpaceStore; clusters: ClusterRegistry },
  name: string,
  onlyCluster?: string,
): Promise<TenantVerification> {
  const tenant = await deps.spaces.tenant(name);
  if (!tenant) throw new HttpError("NotFound", `tenants.gatehouse.io ${JSON.stringify(name)} not found`);
  const all = await deps.spaces.spaces();
  const mine = all.filter((s) => s.tenant === name);
  const clusterNames =
    onlyCluster !== undefined ? [onlyCluster] : [...new Set(mine.map((s) => s.cluster))].sort();
  const clusters: ClusterVerification[] = [];
  const errors: { cluster: string; message: string }[] = [];
  for (const c of clusterNames) {
    const target = await deps.clusters.get(c);
    if (!target) throw new HttpError("NotFound", `clusters.gatehouse.io ${JSON.stringify(c)} not found`);
    const spaces = mine.filter((s) => s.cluster === c).map((s) => s.namespace);
    const client = gatehouseClient(target, "gatehouse-tenant-verify");
    try {
      const list = listWith(client);
      const objects = await readNetpolObjects(list, `cluster ${c}`);
      const rbac = await readRbacObjects(list, `cluster ${c}`);
      const quotas = [];
      for (const ns of spaces) {
        const items = (await list(`/api/v1/namespaces/${encodeURIComponent(ns)}/resourcequotas`)) ?? [];
        for (const q of items) {
          const st = (q["status"] ?? {}) as { hard?: Record<string, string>; used?: Record<string, string> };
          quotas.push({ namespace: ns, hard: st.hard ?? {}, used: st.used ?? {} });
        }
      }
      clusters.push(
        verifyTenantOnCluster({
          tenant,
          cluster: c,
          spaces,
          network: buildCluster(parseModel(objects)),
          rbac,
          quotas,
        }),
      );
    } catch (e) {
      if (e instanceof HttpError) throw e;
      errors.push({
        cluster: c,
        message: e instanceof KubeApiError ? e.message : String((e as Error).message),
      });
    } finally {
      client.close();
    }
  }
  return {
    apiVersion: "gatehouse.io/v1alpha1",
    kind: "TenantVerification",
    metadata: { name },
    status: {
      isolated: errors.length === 0 && clusters.every((c) => c.isolated),
      clusters,
      errors,
      spaces: { count: mine.length, ...(tenant.maxSpaces !== undefined ? { max: tenant.maxSpaces } : {}) },
      usage: tenantUsage(tenant, all),
      limits: {
        ...(tenant.quota.perCluster ? { perCluster: { ...tenant.quota.perCluster } } : {}),
        ...(tenant.quota.total ? { total: { ...tenant.quota.total } } : {}),
      },
    },
  };
}
