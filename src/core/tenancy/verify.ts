/**
 * `tenant verify`, the pure part: given what a cluster holds (pods, namespaces, policies as a netpol
 * Cluster; RBAC objects; quota status), is the tenant isolated? Network: every allowed connection
 * between a pod in the tenant's spaces and any pod outside them, either way, on any port (the
 * simulator's reachablePaths), except DNS to kube-dns. RBAC: every subject outside the tenant that
 * may read or change objects in its spaces (the RBAC engine's who-can), except cluster admins and
 * Kubernetes' own components (see `excludedSubject`).
 */
import { teamGroup } from "../access/types.js";
import { toRbacSubject } from "../access/compile.js";
import { reachablePaths, type Cluster, type Pod, type PortRange, type Protocol } from "../netpol/index.js";
import { buildIndex, whoCan, type RbacObject, type Subject } from "../rbac/index.js";
import { formatQuantity, parseQuantity } from "./quantity.js";
import type { Tenant } from "./types.js";

export interface NetworkBreach {
  from: string;
  to: string;
  protocol: Protocol;
  ports: readonly PortRange[];
  /** The policies that allowed each direction, in the simulator's words. */
  explanation: string;
}

export interface RbacBreach {
  subject: string;
  namespace: string;
  verbs: string[];
  resource: string;
  /** The bindings that grant it: "ClusterRoleBinding NAME" or "RoleBinding NS/NAME". */
  via: string[];
}

export interface QuotaHeadroom {
  namespace: string;
  resources: { name: string; hard: string; used: string; free: string }[];
}

export interface ClusterVerification {
  cluster: string;
  spaces: string[];
  network: NetworkBreach[];
  /** True when there were more paths than reported. */
  networkTruncated: boolean;
  rbac: RbacBreach[];
  quota: QuotaHeadroom[];
  isolated: boolean;
}

/** The resources whose read or write by an outsider breaks isolation (verbs below). */
export const CHECKED_RESOURCES: readonly { group: string; resource: string; subresource?: string }[] = [
  { group: "", resource: "pods" },
  { group: "", resource: "pods", subresource: "exec" },
  { group: "", resource: "secrets" },
  { group: "", resource: "configmaps" },
  { group: "", resource: "services" },
  { group: "", resource: "serviceaccounts" },
  { group: "", resource: "persistentvolumeclaims" },
  { group: "apps", resource: "deployments" },
  { group: "apps", resource: "statefulsets" },
  { group: "batch", resource: "jobs" },
  { group: "networking.k8s.io", resource: "networkpolicies" },
  { group: "rbac.authorization.k8s.io", resource: "rolebindings" },
  { group: "rbac.authorization.k8s.io", resource: "roles" },
];
export const CHECKED_VERBS: readonly string[] = [
  "get",
  "list",
  "watch",
  "create",
  "update",
  "patch",
  "delete",
];

const CLUSTER_ADMIN_ROLES = new Set(["cluster-admin", "gatehouse:cluster-admin"]);
const BROAD_GROUPS = new Set(["system:authenticated", "system:unauthenticated", "system:serviceaccounts"]);
const SYSTEM_NAMESPACES = new Set(["kube-system"]);

function subjectName(s: Subject): string {
  if (s.kind === "ServiceAccount") return `system:serviceaccount:${s.namespace ?? ""}:${s.name}`;
  return s.name;
}

/**
 * Who is not counted as an outsider: cluster admins (subjects of a ClusterRoleBinding to
 * cluster-admin or gatehouse:cluster-admin, and the group system:masters) and Kubernetes' own
 * components (users and groups named system:*, and service accounts of kube-system). Still counted:
 * system:authenticated, system:unauthenticated, system:anonymous, system:serviceaccounts and every
 * other namespace's service accounts, since those are people and workloads, not the control plane.
 */
export function excludedSubject(s: Subject, clusterAdmins: ReadonlySet<string>): boolean {
  const name = subjectName(s);
  const key = `${s.kind}/${name}`;
  if (clusterAdmins.has(key)) return true;
  if (s.kind === "Group" && name === "system:masters") return true;
  const sa = /^system:serviceaccount:([^:]+):/.exec(name);
  if (sa) return SYSTEM_NAMESPACES.has(sa[1] as string);
  const sas = /^system:serviceaccounts:(.+)$/.exec(name);
  if (s.kind === "Group" && sas) return SYSTEM_NAMESPACES.has(sas[1] as string);
  if (BROAD_GROUPS.has(name) || name === "system:anonymous") return false;
  return name.startsWith("system:");
}

/** Whether a subject is the tenant's: an owner or member (user, group, team) or a service account of its spaces. */
export function tenantSubject(s: Subject, t: Tenant, spaces: ReadonlySet<string>): boolean {
  const name = subjectName(s);
  const sa = /^system:serviceaccount:([^:]+):/.exec(name);
  if (sa) return spaces.has(sa[1] as string);
  const sas = /^system:serviceaccounts:(.+)$/.exec(name);
  if (s.kind === "Group" && sas) return spaces.has(sas[1] as string);
  return [...t.owners, ...t.members].some((x) => {
    const r = toRbacSubject(x);
    if (x.kind === "Team") return s.kind === "Group" && name === teamGroup(x.name);
    return r.kind === (s.kind === "ServiceAccount" ? "User" : s.kind) && r.name === name;
  });
}

export interface VerifyInput {
  tenant: Tenant;
  cluster: string;
  /** The tenant's space namespaces on this cluster. */
  spaces: readonly string[];
  network: Cluster;
  rbac: readonly RbacObject[];
  /** ResourceQuota status of each space (status.hard / status.used). */
  quotas: readonly { namespace: string; hard: Record<string, string>; used: Record<string, string> }[];
  maxPaths?: number;
}

function isDnsPath(to: Pod, ports: readonly PortRange[]): boolean {
  return (
    to.namespace === "kube-system" &&
    to.labels["k8s-app"] === "kube-dns" &&
    ports.every((r) => r.from === 53 && r.to === 53)
  );
}

/** Verify one cluster. Pure: the shell reads the objects. */
export function verifyTenantOnCluster(input: VerifyInput): ClusterVerification {
  const spaces = new Set(input.spaces);
  const inTenant = (p: Pod): boolean => spaces.has(p.namespace);
  const podsByKey = new Map(input.network.pods.map((p) => [`${p.namespace}/${p.name}`, p]));
  const report = reachablePaths(input.network, inTenant, (p) => !inTenant(p), {
    maxPaths: input.maxPaths ?? 200,
  });
  const network: NetworkBreach[] = [];
  for (const p of report.paths) {
    const to = podsByKey.get(p.to);
    if (to && spaces.has(p.from.split("/")[0] as string) && isDnsPath(to, p.ports)) continue;
    network.push({
      from: p.from,
      to: p.to,
      protocol: p.protocol,
      ports: p.ports,
      explanation: p.explanation,
    });
  }

  const index = buildIndex(input.rbac);
  const admins = new Set<string>();
  for (const o of input.rbac)
    if (
      o.kind === "ClusterRoleBinding" &&
      o.roleRef.kind === "ClusterRole" &&
      CLUSTER_ADMIN_ROLES.has(o.roleRef.name)
    )
      for (const s of o.subjects) admins.add(`${s.kind}/${subjectName(s)}`);
  const breaches = new Map<string, RbacBreach>();
  for (const ns of [...spaces].sort())
    for (const r of CHECKED_RESOURCES)
      for (const verb of CHECKED_VERBS) {
        const res = whoCan(index, {
          kind: "resource",
          verb,
          namespace: ns,
          apiGroup: r.group,
          apiVersion: "*",
          resource: r.resource,
          subresource: r.subresource ?? "",
          name: "",
        });
        for (const s of res.subjects) {
          if (excludedSubject(s, admins) || tenantSubject(s, input.tenant, spaces)) continue;
          const resource = `${r.resource}${r.subresource ? `/${r.subresource}` : ""}${r.group ? `.${r.group}` : ""}`;
          const key = `${s.kind}/${subjectName(s)}|${ns}|${resource}`;
          const via = [
            ...res.clusterRoleBindings
              .filter((b) => b.subjects.some((x) => x.kind === s.kind && subjectName(x) === subjectName(s)))
              .map((b) => `ClusterRoleBinding ${b.metadata.name}`),
            ...res.roleBindings
              .filter((b) => b.subjects.some((x) => x.kind === s.kind && subjectName(x) === subjectName(s)))
              .map((b) => `RoleBinding ${b.metadata.namespace ?? ns}/${b.metadata.name}`),
          ];
          const prev = breaches.get(key);
          if (prev) {
            if (!prev.verbs.includes(verb)) prev.verbs.push(verb);
            for (const v of via) if (!prev.via.includes(v)) prev.via.push(v);
          } else
            breaches.set(key, {
              subject: `${s.kind} ${subjectName(s)}`,
              namespace: ns,
              verbs: [verb],
              resource,
              via,
            });
        }
      }

  const quota: QuotaHeadroom[] = input.quotas.map((q) => ({
    namespace: q.namespace,
    resources: Object.keys(q.hard)
      .sort()
      .map((name) => {
        const hard = parseQuantity(q.hard[name] ?? "0") ?? 0n;
        const used = parseQuantity(q.used[name] ?? "0") ?? 0n;
        return {
          name,
          hard: q.hard[name] ?? "0",
          used: q.used[name] ?? "0",
          free: formatQuantity(hard > used ? hard - used : 0n),
        };
      }),
  }));
  const rbac = [...breaches.values()];
  return {
    cluster: input.cluster,
    spaces: [...spaces].sort(),
    network,
    networkTruncated: report.truncated,
    rbac,
    quota,
    isolated: network.length === 0 && rbac.length === 0,
  };
}
