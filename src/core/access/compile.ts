import { matchesSelector } from "../k8s/labels.js";
import {
  RBAC_GROUP,
  type ClusterRole,
  type ClusterRoleBinding,
  type RbacObject,
  type RoleBinding,
  type Subject,
} from "../rbac/types.js";
import { BUILTIN_ROLES } from "./builtin-roles.js";
import {
  accessKeyUser,
  teamGroup,
  type AccessBinding,
  type AccessRole,
  type AccessSubject,
  type ClusterFacts,
  type Team,
} from "./types.js";

/** Whether a binding applies to a cluster: named in it, or matched by its selector. */
export function appliesToCluster(b: AccessBinding, c: ClusterFacts): boolean {
  if (b.clusters.names?.includes(c.name)) return true;
  return b.clusters.selector !== undefined && matchesSelector(b.clusters.selector, c.labels);
}

/** The RBAC name a Gatehouse role gets inside a compiled policy. */
export function compiledRoleName(role: string): string {
  return `gatehouse:${role}`;
}

/**
 * Compile the access bindings that apply to one cluster into Kubernetes RBAC objects: each role a
 * ClusterRole, each binding a ClusterRoleBinding (no namespaces) or one RoleBinding per namespace.
 * The RBAC engine then answers exactly as the cluster's own RBAC would for the same objects.
 */
export function compileForCluster(input: {
  bindings: readonly AccessBinding[];
  roles: readonly AccessRole[];
  cluster: ClusterFacts;
}): RbacObject[] {
  const roles = new Map<string, AccessRole>();
  for (const r of BUILTIN_ROLES) roles.set(r.name, r);
  for (const r of input.roles) if (!roles.has(r.name)) roles.set(r.name, r);
  const out: RbacObject[] = [];
  for (const r of roles.values()) {
    const cr: ClusterRole = {
      kind: "ClusterRole",
      apiVersion: `${RBAC_GROUP}/v1`,
      metadata: { name: compiledRoleName(r.name) },
      rules: r.rules,
    };
    out.push(cr);
  }
  for (const b of input.bindings) {
    if (!appliesToCluster(b, input.cluster)) continue;
    const subjects = b.subjects.map(toRbacSubject);
    const roleRef = {
      apiGroup: RBAC_GROUP,
      kind: "ClusterRole" as const,
      name: compiledRoleName(b.roleRef.name),
    };
    if (b.namespaces === undefined) {
      const crb: ClusterRoleBinding = {
        kind: "ClusterRoleBinding",
        apiVersion: `${RBAC_GROUP}/v1`,
        metadata: { name: `gatehouse:${b.name}` },
        subjects,
        roleRef,
      };
      out.push(crb);
    } else {
      for (const ns of b.namespaces) {
        const rb: RoleBinding = {
          kind: "RoleBinding",
          apiVersion: `${RBAC_GROUP}/v1`,
          metadata: { name: `gatehouse:${b.name}`, namespace: ns },
          subjects,
          roleRef,
        };
        out.push(rb);
      }
    }
  }
  return out;
}

export function toRbacSubject(s: AccessSubject): Subject {
  switch (s.kind) {
    case "User":
      return { kind: "User", apiGroup: RBAC_GROUP, name: s.name };
    case "Group":
      return { kind: "Group", apiGroup: RBAC_GROUP, name: s.name };
    case "Team":
      return { kind: "Group", apiGroup: RBAC_GROUP, name: teamGroup(s.name) };
    case "AccessKey":
      return { kind: "User", apiGroup: RBAC_GROUP, name: accessKeyUser(s.name) };
  }
}

/** The team groups a user carries: teams that list the user, or one of the user's identity-provider groups. */
export function teamGroupsFor(
  user: { username: string; groups: readonly string[] },
  teams: readonly Team[],
): string[] {
  const out: string[] = [];
  for (const t of teams) {
    if (t.users.includes(user.username) || t.groups.some((g) => user.groups.includes(g)))
      out.push(teamGroup(t.name));
  }
  return out.sort();
}

/** Whether any binding that applies to the cluster names this user (directly, by group or team). */
export function clusterVisibleTo(
  user: { username: string; groups: readonly string[] },
  bindings: readonly AccessBinding[],
  cluster: ClusterFacts,
): boolean {
  return bindings.some(
    (b) =>
      appliesToCluster(b, cluster) &&
      b.subjects.some((s) => {
        const r = toRbacSubject(s);
        return r.kind === "User" ? r.name === user.username : user.groups.includes(r.name);
      }),
  );
}
