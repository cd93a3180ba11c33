import { KubeApiError, type KubeClient } from "./kube-client.js";
import { MANAGED_LABEL, planRbacSync, type RbacSyncPlan } from "../core/access/index.js";
import type { ObjectRef, RbacObject } from "../core/rbac/index.js";

const BASE = "/apis/rbac.authorization.k8s.io/v1";

function collectionPath(o: { kind: string; namespace?: string | undefined }): string {
  switch (o.kind) {
    case "ClusterRole":
      return `${BASE}/clusterroles`;
    case "ClusterRoleBinding":
      return `${BASE}/clusterrolebindings`;
    case "Role":
      return `${BASE}/namespaces/${encodeURIComponent(o.namespace ?? "")}/roles`;
    default:
      return `${BASE}/namespaces/${encodeURIComponent(o.namespace ?? "")}/rolebindings`;
  }
}

function itemPath(ref: ObjectRef): string {
  return `${collectionPath(ref)}/${encodeURIComponent(ref.name)}`;
}

export interface SyncResult {
  plan: RbacSyncPlan;
  /** Objects that could not be written (e.g. a RoleBinding for a namespace the cluster does not have). */
  failures: { object: string; message: string }[];
}

/** Read the Gatehouse-managed RBAC objects of a cluster (those carrying MANAGED_LABEL). */
export async function readManaged(client: KubeClient): Promise<RbacObject[]> {
  const selector = `?labelSelector=${encodeURIComponent(`${MANAGED_LABEL}=true`)}`;
  const out: RbacObject[] = [];
  for (const [kind, path] of [
    ["ClusterRole", `${BASE}/clusterroles`],
    ["ClusterRoleBinding", `${BASE}/clusterrolebindings`],
    ["RoleBinding", `${BASE}/rolebindings`],
  ] as const) {
    const list = await client.list<Record<string, unknown>>(path + selector);
    for (const item of list.items) {
      const o = { ...item, kind, apiVersion: "rbac.authorization.k8s.io/v1" } as Record<string, unknown>;
      if (kind === "ClusterRole") o["rules"] = o["rules"] ?? [];
      else o["subjects"] = o["subjects"] ?? [];
      out.push(o as unknown as RbacObject);
    }
  }
  return out;
}

/**
 * Make the cluster's managed RBAC equal `desired`: read, plan (pure), apply. Each write is independent;
 * failures are collected, not thrown, so one missing namespace does not block the rest.
 */
export async function syncRbac(client: KubeClient, desired: readonly RbacObject[]): Promise<SyncResult> {
  const plan = planRbacSync(desired, await readManaged(client));
  const failures: SyncResult["failures"] = [];
  const attempt = async (label: string, f: () => Promise<unknown>): Promise<void> => {
    try {
      await f();
    } catch (e) {
      failures.push({ object: label, message: e instanceof KubeApiError ? e.message : String(e) });
    }
  };
  const label = (o: { kind: string; metadata: { name: string; namespace?: string } }): string =>
    `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata.name}`;
  for (const ref of plan.delete) {
    await attempt(`${ref.kind} ${ref.name}`, () => client.requestJSON("DELETE", itemPath(ref)));
  }
  for (const o of plan.recreate) {
    await attempt(label(o), async () => {
      await client.requestJSON(
        "DELETE",
        itemPath({
          kind: o.kind,
          name: o.metadata.name,
          ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
        }),
      );
      await client.postJSON(collectionPath({ kind: o.kind, namespace: o.metadata.namespace }), o);
    });
  }
  for (const o of plan.create) {
    await attempt(label(o), () =>
      client.postJSON(collectionPath({ kind: o.kind, namespace: o.metadata.namespace }), o),
    );
  }
  for (const o of plan.update) {
    await attempt(label(o), () =>
      client.requestJSON(
        "PUT",
        itemPath({
          kind: o.kind,
          name: o.metadata.name,
          ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
        }),
        o,
      ),
    );
  }
  return { plan, failures };
}
