import type { AccessSubject } from "../access/types.js";
import { sameQuantity } from "./quantity.js";
import { TEMPLATE_KINDS } from "./validate.js";
import {
  DERIVED_LABEL,
  MANAGED_LABEL,
  MANAGED_VALUE,
  TENANT_LABEL,
  type Space,
  type Tenant,
} from "./types.js";

/** A namespaced Kubernetes object Gatehouse keeps in a space. */
export interface SpaceObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    labels: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [k: string]: unknown;
}

/** The REST collection of a space object's kind, e.g. /apis/networking.k8s.io/v1/namespaces/NS/networkpolicies. */
export function collectionPath(o: { apiVersion: string; kind: string }, namespace: string): string {
  const k = TEMPLATE_KINDS[o.kind];
  if (!k) throw new Error(`no REST path for kind ${o.kind}`);
  const base = o.apiVersion === "v1" ? "/api/v1" : `/apis/${o.apiVersion}`;
  return `${base}/namespaces/${encodeURIComponent(namespace)}/${k.plural}`;
}

const DNS_PEER = {
  namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
  podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
};

/**
 * Everything Gatehouse keeps in one space, unless the tenant's templates say otherwise:
 *  - NetworkPolicies: deny all ingress and egress; allow both ways with every namespace labelled
 *    gatehouse.io/tenant=TENANT (the tenant's spaces on this cluster); DNS egress to kube-dns (53/UDP+TCP);
 *  - a ResourceQuota from spec.quota.space and a LimitRange (defaults so pods are admitted);
 *  - the template objects.
 * RoleBindings for owners and members come from derived AccessBindings (see derivedAccess), so the
 * gateway's central authorizer and the cluster agree. Pure: the reconciler applies it.
 */
export function spaceObjects(t: Tenant, s: Space): SpaceObject[] {
  const ns = s.namespace;
  const labels = { [MANAGED_LABEL]: MANAGED_VALUE, [TENANT_LABEL]: t.name };
  const meta = (name: string) => ({ name, namespace: ns, labels: { ...labels } });
  const out: SpaceObject[] = [];
  if (t.templates.networkPolicies) {
    const np = (name: string, spec: Record<string, unknown>): SpaceObject => ({
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: meta(name),
      spec,
    });
    out.push(
      np("gatehouse-default-deny", { podSelector: {}, policyTypes: ["Ingress", "Egress"] }),
      np("gatehouse-allow-tenant", {
        podSelector: {},
        policyTypes: ["Ingress", "Egress"],
        ingress: [{ from: [{ namespaceSelector: { matchLabels: { [TENANT_LABEL]: t.name } } }] }],
        egress: [{ to: [{ namespaceSelector: { matchLabels: { [TENANT_LABEL]: t.name } } }] }],
      }),
      np("gatehouse-allow-dns", {
        podSelector: {},
        policyTypes: ["Egress"],
        egress: [
          {
            to: [DNS_PEER],
            ports: [
              { protocol: "UDP", port: 53 },
              { protocol: "TCP", port: 53 },
            ],
          },
        ],
      }),
    );
  }
  if (t.quota.space && Object.keys(t.quota.space).length > 0)
    out.push({
      apiVersion: "v1",
      kind: "ResourceQuota",
      metadata: meta("gatehouse-quota"),
      spec: { hard: { ...t.quota.space } },
    });
  const lr = t.templates.limitRange;
  if (lr !== false) {
    const item: Record<string, unknown> = { type: "Container" };
    for (const k of ["default", "defaultRequest", "max", "min"] as const) if (lr[k]) item[k] = { ...lr[k] };
    out.push({
      apiVersion: "v1",
      kind: "LimitRange",
      metadata: meta("gatehouse-limits"),
      spec: { limits: [item] },
    });
  }
  for (const o of t.templates.objects) {
    const { metadata, ...rest } = o;
    out.push({
      ...rest,
      metadata: {
        name: metadata.name,
        namespace: ns,
        labels: { ...(metadata.labels ?? {}), ...labels },
        ...(metadata.annotations ? { annotations: { ...metadata.annotations } } : {}),
      },
    } as SpaceObject);
  }
  return out;
}

/** The fields of an object that are its content (everything but identity, metadata and status). */
function contentOf(o: Record<string, unknown>): Record<string, unknown> {
  const { apiVersion: _a, kind: _k, metadata: _m, status: _s, ...rest } = o;
  return rest;
}

function empty(v: unknown): boolean {
  return (
    v === undefined ||
    v === null ||
    (Array.isArray(v) && v.length === 0) ||
    (typeof v === "object" && !Array.isArray(v) && Object.keys(v as object).length === 0)
  );
}

/** Deep equality where absent ≡ empty list/map and quantity strings compare by value ("1000m" = "1"). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (empty(a) && empty(b)) return true;
  if (typeof a === "string" && typeof b === "string") return sameQuantity(a, b);
  if (typeof a === "number" || typeof b === "number") return String(a) === String(b);
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => sameJson(x, b[i]));
  }
  if (typeof a === "object" && typeof b === "object" && a !== null && b !== null) {
    const ra = a as Record<string, unknown>;
    const rb = b as Record<string, unknown>;
    const keys = new Set([...Object.keys(ra), ...Object.keys(rb)]);
    return [...keys].every((k) => sameJson(ra[k], rb[k]));
  }
  return a === b;
}

/**
 * Whether the object in the cluster still says what Gatehouse wants: same content and the desired
 * labels present. Both directions count, so an added rule in a policy is drift too.
 */
export function inSync(desired: SpaceObject, actual: Record<string, unknown>): boolean {
  const meta = (actual["metadata"] ?? {}) as { labels?: Record<string, string> };
  const labelsOk = Object.entries(desired.metadata.labels).every(([k, v]) => meta.labels?.[k] === v);
  const d = contentOf(desired);
  const a = contentOf(actual);
  // Kubernetes adds fields we never set (e.g. a ServiceAccount's secrets): compare what we set, and,
  // for the kinds whose every field is ours, everything.
  const exact = ["NetworkPolicy", "ResourceQuota", "LimitRange", "Role", "RoleBinding", "ConfigMap"].includes(
    desired.kind,
  );
  const same = exact ? sameJson(d, a) : Object.keys(d).every((k) => sameJson(d[k], a[k]));
  return labelsOk && same;
}

/** Gatehouse-store objects derived from tenants and spaces: AccessBindings (and one AccessRole). */
export interface DerivedObject {
  kind: "AccessBinding" | "AccessRole";
  name: string;
  body: Record<string, unknown>;
}

/** The AccessRole that lets tenant owners and members see the clusters their tenant may use. */
export const TENANT_DISCOVERY_ROLE = "gatehouse-tenant-discovery";

/** The AccessBinding name for one role of one space: the namespace has no dots, so it is unambiguous. */
export function spaceBindingName(s: Space, who: "owners" | "members"): string {
  return `space.${s.namespace}.${s.cluster}.${who}`;
}

/**
 * What the access machinery needs so the gateway's central authorizer (and, through the RBAC sync,
 * each cluster) lets tenants in: per tenant, a binding that makes its clusters visible to owners and
 * members (discovery only); per space, owners → templates.roleBindings.owners and members →
 * templates.roleBindings.members, limited to that namespace on that cluster.
 */
export function derivedAccess(tenants: readonly Tenant[], spaces: readonly Space[]): DerivedObject[] {
  const byName = new Map(tenants.map((t) => [t.name, t]));
  const labels = { [DERIVED_LABEL]: "true" };
  const binding = (
    name: string,
    tenant: string,
    subjects: readonly AccessSubject[],
    role: string,
    clusters: unknown,
    namespaces?: string[],
  ): DerivedObject => ({
    kind: "AccessBinding",
    name,
    body: {
      apiVersion: "gatehouse.io/v1alpha1",
      kind: "AccessBinding",
      metadata: { name, labels: { ...labels, [TENANT_LABEL]: tenant } },
      spec: {
        subjects: subjects.map((s) => ({ kind: s.kind, name: s.name })),
        roleRef: { name: role },
        clusters,
        ...(namespaces ? { namespaces } : {}),
      },
    },
  });
  const out: DerivedObject[] = [];
  if (tenants.length > 0)
    out.push({
      kind: "AccessRole",
      name: TENANT_DISCOVERY_ROLE,
      body: {
        apiVersion: "gatehouse.io/v1alpha1",
        kind: "AccessRole",
        metadata: { name: TENANT_DISCOVERY_ROLE, labels },
        spec: {
          rules: [{ verbs: ["get"], nonResourceURLs: ["/api", "/api/*", "/apis", "/apis/*", "/version"] }],
        },
      },
    });
  for (const t of tenants)
    out.push(
      binding(`tenant.${t.name}.discovery`, t.name, [...t.owners, ...t.members], TENANT_DISCOVERY_ROLE, {
        ...(t.clusters.names ? { names: t.clusters.names } : {}),
        ...(t.clusters.selector ? { selector: t.clusters.selector } : {}),
      }),
    );
  for (const s of spaces) {
    const t = byName.get(s.tenant);
    if (!t) continue;
    const where = { names: [s.cluster] };
    out.push(
      binding(spaceBindingName(s, "owners"), t.name, t.owners, t.templates.roleBindings.owners, where, [
        s.namespace,
      ]),
    );
    const membersRole = t.templates.roleBindings.members;
    if (membersRole !== false && t.members.length > 0)
      out.push(binding(spaceBindingName(s, "members"), t.name, t.members, membersRole, where, [s.namespace]));
  }
  return out;
}
