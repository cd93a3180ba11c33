/**
 * Reading a live cluster's networking and RBAC objects, for `netpol --kubeconfig/--cluster` and
 * `tenant verify`. The caller supplies `list` (a KubeClient with some credential, or the gateway):
 * it returns every item of a collection, or undefined when the API is not served there (404), so
 * clusters without the network-policy-api CRDs simply have no admin policies.
 */
import type { KubeObject, SourcedObject } from "../../core/k8s/index.js";
import { parseRbacObject, type RbacObject } from "../../core/rbac/index.js";

export type ListFn = (path: string) => Promise<Record<string, unknown>[] | undefined>;

const NETPOL_COLLECTIONS: readonly { apiVersion: string; kind: string; path: string }[] = [
  { apiVersion: "v1", kind: "Namespace", path: "/api/v1/namespaces" },
  { apiVersion: "v1", kind: "Pod", path: "/api/v1/pods" },
  {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    path: "/apis/networking.k8s.io/v1/networkpolicies",
  },
  {
    apiVersion: "policy.networking.k8s.io/v1alpha1",
    kind: "AdminNetworkPolicy",
    path: "/apis/policy.networking.k8s.io/v1alpha1/adminnetworkpolicies",
  },
  {
    apiVersion: "policy.networking.k8s.io/v1alpha1",
    kind: "BaselineAdminNetworkPolicy",
    path: "/apis/policy.networking.k8s.io/v1alpha1/baselineadminnetworkpolicies",
  },
  {
    apiVersion: "policy.networking.k8s.io/v1alpha2",
    kind: "ClusterNetworkPolicy",
    path: "/apis/policy.networking.k8s.io/v1alpha2/clusternetworkpolicies",
  },
];

const RBAC_COLLECTIONS: readonly { kind: string; path: string }[] = [
  { kind: "ClusterRole", path: "/apis/rbac.authorization.k8s.io/v1/clusterroles" },
  { kind: "ClusterRoleBinding", path: "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings" },
  { kind: "Role", path: "/apis/rbac.authorization.k8s.io/v1/roles" },
  { kind: "RoleBinding", path: "/apis/rbac.authorization.k8s.io/v1/rolebindings" },
];

/** The group/versions a cluster serves, from its /apis discovery document ("v1" always). */
export function servedGroupVersions(apis: unknown): Set<string> {
  const out = new Set(["v1"]);
  const groups =
    (apis as { groups?: { versions?: { groupVersion?: string }[] }[] } | undefined)?.groups ?? [];
  for (const g of groups) for (const v of g.versions ?? []) if (v.groupVersion) out.add(v.groupVersion);
  return out;
}

/**
 * Namespaces, running pods, NetworkPolicies and admin network policies, as `netpol` reads files.
 * With `served` (from servedGroupVersions), APIs the cluster does not serve are not asked for.
 */
export async function readNetpolObjects(
  list: ListFn,
  sourceName: string,
  served?: ReadonlySet<string>,
): Promise<SourcedObject[]> {
  const out: SourcedObject[] = [];
  for (const c of NETPOL_COLLECTIONS) {
    if (served && !served.has(c.apiVersion)) continue;
    const items = await list(c.path);
    if (!items) continue;
    let n = 0;
    for (const item of items) {
      n++;
      // Finished pods hold no address and take no traffic.
      const phase = (item["status"] as Record<string, unknown> | undefined)?.["phase"];
      if (c.kind === "Pod" && (phase === "Succeeded" || phase === "Failed")) continue;
      const object: KubeObject = { ...item, apiVersion: c.apiVersion, kind: c.kind };
      out.push({ object, source: { file: `${sourceName} ${c.path}`, document: n } });
    }
  }
  return out;
}

/** Every Role, ClusterRole, RoleBinding and ClusterRoleBinding of the cluster. */
export async function readRbacObjects(list: ListFn, sourceName: string): Promise<RbacObject[]> {
  const out: RbacObject[] = [];
  for (const c of RBAC_COLLECTIONS) {
    const items = (await list(c.path)) ?? [];
    let n = 0;
    for (const item of items) {
      n++;
      const o = {
        rules: [],
        subjects: [],
        ...item,
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: c.kind,
      };
      if (c.kind.endsWith("Role")) delete (o as Record<string, unknown>)["subjects"];
      else delete (o as Record<string, unknown>)["rules"];
      const parsed = parseRbacObject({
        object: o as KubeObject,
        source: { file: `${sourceName} ${c.path}`, document: n },
      });
      if (parsed) out.push(parsed);
    }
  }
  return out;
}
