/**
 * A synthetic, seeded RBAC policy and request stream for the RBAC benchmark: namespaces with Roles
 * and RoleBindings, ClusterRoles and ClusterRoleBindings, subjects drawn from pools of users, groups
 * and service accounts, and users that belong to 1 to 20 groups. Deterministic for a given seed.
 */
import type { RequestAttributes, UserInfo } from "../src/core/k8s/attributes.js";
import {
  RBAC_GROUP,
  type ClusterRole,
  type PolicyRule,
  type RbacObject,
  type Role,
  type Subject,
} from "../src/core/rbac/index.js";

export interface Shape {
  namespaces: number;
  clusterRoles: number;
  rolesPerNamespace: number;
  clusterRoleBindings: number;
  roleBindingsPerNamespace: number;
  users: number;
  groups: number;
  seed: number;
}

/** mulberry32: small, fast, seeded. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const GROUPS: Record<string, string[]> = {
  "": [
    "pods",
    "services",
    "configmaps",
    "secrets",
    "serviceaccounts",
    "events",
    "persistentvolumeclaims",
    "endpoints",
  ],
  apps: ["deployments", "statefulsets", "daemonsets", "replicasets"],
  batch: ["jobs", "cronjobs"],
  "networking.k8s.io": ["ingresses", "networkpolicies"],
  "rbac.authorization.k8s.io": ["roles", "rolebindings"],
  autoscaling: ["horizontalpodautoscalers"],
  policy: ["poddisruptionbudgets"],
  "example.com": ["widgets", "gadgets", "gizmos"],
};
const GROUP_NAMES = Object.keys(GROUPS);
const SUBRESOURCES = ["log", "exec", "status", "scale", "portforward"];
const VERB_SETS = [
  ["get", "list", "watch"],
  ["get"],
  ["create", "update", "patch", "delete"],
  ["*"],
  ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"],
  ["list", "watch"],
];
const ALL_VERBS = ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"];
const URLS = ["/healthz", "/metrics", "/version", "/api/*", "/apis/*", "/logs/*"];

export function nsName(i: number): string {
  return `ns-${String(i).padStart(4, "0")}`;
}

export class Generator {
  readonly rand: () => number;
  constructor(readonly shape: Shape) {
    this.rand = prng(shape.seed);
  }
  int(n: number): number {
    return Math.floor(this.rand() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)] as T;
  }

  rule(allowUrls: boolean): PolicyRule {
    if (allowUrls && this.rand() < 0.1) return { verbs: ["get"], nonResourceURLs: [this.pick(URLS)] };
    const group = this.rand() < 0.03 ? "*" : this.pick(GROUP_NAMES);
    const pool = group === "*" ? ["*"] : (GROUPS[group] ?? []);
    const resources = new Set<string>();
    for (let i = 0, n = 1 + this.int(3); i < n; i++) {
      const r = this.pick(pool);
      const x = this.rand();
      resources.add(
        x < 0.15 ? `${r}/${this.pick(SUBRESOURCES)}` : x < 0.18 ? `*/${this.pick(SUBRESOURCES)}` : r,
      );
    }
    const rule: PolicyRule = { verbs: this.pick(VERB_SETS), apiGroups: [group], resources: [...resources] };
    return this.rand() < 0.1 ? { ...rule, resourceNames: [`obj-${this.int(50)}`] } : rule;
  }

  rules(allowUrls: boolean): PolicyRule[] {
    return Array.from({ length: 1 + this.int(8) }, () => this.rule(allowUrls));
  }

  subject(namespace: string): Subject {
    const x = this.rand();
    if (x < 0.5) return { kind: "User", apiGroup: RBAC_GROUP, name: `user-${this.int(this.shape.users)}` };
    if (x < 0.85)
      return { kind: "Group", apiGroup: RBAC_GROUP, name: `group-${this.int(this.shape.groups)}` };
    const saNs = namespace === "" || this.rand() < 0.5 ? nsName(this.int(this.shape.namespaces)) : "";
    const sa: Subject = { kind: "ServiceAccount", apiGroup: "", name: `sa-${this.int(10)}` };
    return saNs === "" ? sa : { ...sa, namespace: saNs };
  }

  subjects(namespace: string): Subject[] {
    return Array.from({ length: 1 + this.int(3) }, () => this.subject(namespace));
  }

  /** ~1% of bindings refer to a role that does not exist, as real clusters have. */
  roleName(prefix: string, count: number): string {
    return this.rand() < 0.01 ? `${prefix}-missing-${this.int(100)}` : `${prefix}-${this.int(count)}`;
  }

  policy(): RbacObject[] {
    const s = this.shape;
    const out: RbacObject[] = [];
    for (let i = 0; i < s.clusterRoles; i++) {
      const cr: ClusterRole = {
        kind: "ClusterRole",
        apiVersion: `${RBAC_GROUP}/v1`,
        metadata: { name: `cr-${i}` },
        rules: this.rules(true),
      };
      out.push(cr);
    }
    for (let n = 0; n < s.namespaces; n++) {
      const ns = nsName(n);
      for (let i = 0; i < s.rolesPerNamespace; i++) {
        const r: Role = {
          kind: "Role",
          apiVersion: `${RBAC_GROUP}/v1`,
          metadata: { name: `role-${i}`, namespace: ns },
          rules: this.rules(false),
        };
        out.push(r);
      }
    }
    for (let i = 0; i < s.clusterRoleBindings; i++) {
      out.push({
        kind: "ClusterRoleBinding",
        apiVersion: `${RBAC_GROUP}/v1`,
        metadata: { name: `crb-${i}` },
        roleRef: { apiGroup: RBAC_GROUP, kind: "ClusterRole", name: this.roleName("cr", s.clusterRoles) },
        subjects: this.subjects(""),
      });
    }
    for (let n = 0; n < s.namespaces; n++) {
      const ns = nsName(n);
      for (let i = 0; i < s.roleBindingsPerNamespace; i++) {
        const toRole = this.rand() < 0.5;
        out.push({
          kind: "RoleBinding",
          apiVersion: `${RBAC_GROUP}/v1`,
          metadata: { name: `rb-${i}`, namespace: ns },
          roleRef: toRole
            ? { apiGroup: RBAC_GROUP, kind: "Role", name: this.roleName("role", s.rolesPerNamespace) }
            : { apiGroup: RBAC_GROUP, kind: "ClusterRole", name: this.roleName("cr", s.clusterRoles) },
          subjects: this.subjects(ns),
        });
      }
    }
    return out;
  }

  /** A user in 1 to 20 groups; one in ten is a service account with its groups. */
  user(): UserInfo {
    if (this.rand() < 0.1) {
      const ns = nsName(this.int(this.shape.namespaces));
      return {
        username: `system:serviceaccount:${ns}:sa-${this.int(10)}`,
        groups: ["system:serviceaccounts", `system:serviceaccounts:${ns}`, "system:authenticated"],
      };
    }
    const groups = new Set<string>();
    for (let i = 0, n = 1 + this.int(20); i < n; i++) groups.add(`group-${this.int(this.shape.groups)}`);
    return { username: `user-${this.int(this.shape.users)}`, groups: [...groups, "system:authenticated"] };
  }

  /** 80% namespaced resource requests, 10% cluster-scoped, 10% non-resource URLs. */
  request(): RequestAttributes {
    const user = this.user();
    const x = this.rand();
    if (x < 0.1)
      return {
        kind: "nonResource",
        user,
        verb: "get",
        path: this.pick(["/healthz", "/metrics", "/api/v1", "/apis/apps", "/version", "/openapi/v2"]),
      };
    const group = this.pick(GROUP_NAMES);
    const y = this.rand();
    return {
      kind: "resource",
      user,
      verb: this.pick(ALL_VERBS),
      namespace: x < 0.2 ? "" : nsName(this.int(this.shape.namespaces)),
      apiGroup: group,
      apiVersion: "v1",
      resource: this.pick(GROUPS[group] ?? []),
      subresource: y < 0.1 ? this.pick(SUBRESOURCES) : "",
      name: y < 0.5 ? `obj-${this.int(50)}` : "",
    };
  }
}
