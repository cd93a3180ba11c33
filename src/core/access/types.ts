import type { LabelSelector } from "../k8s/labels.js";
import type { PolicyRule } from "../rbac/types.js";

/**
 * Gatehouse's access model (gatehouse.io/v1alpha1), as plain data:
 *  - Team: named people, filled by hand (users) and from identity-provider groups.
 *  - AccessRole: a ClusterRole-shaped list of rules (built-ins mirror Kubernetes' cluster-admin, admin, edit, view).
 *  - AccessBinding: subjects bound to a role, on clusters chosen by name or label selector, optionally
 *    only in some namespaces.
 */
export interface Team {
  name: string;
  users: readonly string[];
  /** Identity-provider groups whose members are in the team. */
  groups: readonly string[];
}

export interface AccessRole {
  name: string;
  rules: readonly PolicyRule[];
}

export type AccessSubject =
  | { kind: "User"; name: string }
  | { kind: "Team"; name: string }
  | { kind: "Group"; name: string }
  | { kind: "AccessKey"; name: string };

export interface ClusterScope {
  /** Clusters by name. */
  names?: readonly string[];
  /** Clusters by label. A binding applies to a cluster named OR selected. */
  selector?: LabelSelector;
}

export interface AccessBinding {
  name: string;
  subjects: readonly AccessSubject[];
  roleRef: { name: string };
  clusters: ClusterScope;
  /** Only these namespaces (granted as RoleBindings); absent = cluster-wide (ClusterRoleBinding). */
  namespaces?: readonly string[];
}

export interface ClusterFacts {
  name: string;
  labels: Readonly<Record<string, string>>;
}

/** The group every member of a team carries at the gateway. */
export function teamGroup(team: string): string {
  return `gatehouse:team:${team}`;
}

/** The user name an access key without an owner authenticates as. */
export function accessKeyUser(key: string): string {
  return `gatehouse:accesskey:${key}`;
}
