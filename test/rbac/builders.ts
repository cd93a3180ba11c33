/** Small builders so RBAC tests read like the YAML they stand for. */
import type { RequestAttributes, UserInfo } from "../../src/core/k8s/attributes.js";
import {
  RBAC_GROUP,
  type ClusterRole,
  type ClusterRoleBinding,
  type PolicyRule,
  type Role,
  type RoleBinding,
  type Subject,
} from "../../src/core/rbac/index.js";
import type { LabelSelector } from "../../src/core/k8s/labels.js";

const V1 = `${RBAC_GROUP}/v1`;

export function rule(
  verbs: string[],
  apiGroups: string[],
  resources: string[],
  resourceNames: string[] = [],
): PolicyRule {
  return resourceNames.length > 0
    ? { verbs, apiGroups, resources, resourceNames }
    : { verbs, apiGroups, resources };
}

export function urlRule(verbs: string[], nonResourceURLs: string[]): PolicyRule {
  return { verbs, nonResourceURLs };
}

export function role(namespace: string, name: string, rules: PolicyRule[]): Role {
  return { kind: "Role", apiVersion: V1, metadata: { name, namespace }, rules };
}

export function clusterRole(
  name: string,
  rules: PolicyRule[],
  opts: { labels?: Record<string, string>; selectors?: LabelSelector[] } = {},
): ClusterRole {
  const metadata = opts.labels ? { name, labels: opts.labels } : { name };
  const cr: ClusterRole = { kind: "ClusterRole", apiVersion: V1, metadata, rules };
  return opts.selectors ? { ...cr, aggregationRule: { clusterRoleSelectors: opts.selectors } } : cr;
}

export function roleBinding(
  namespace: string,
  name: string,
  ref: { kind: "Role" | "ClusterRole"; name: string },
  subjects: Subject[],
): RoleBinding {
  return {
    kind: "RoleBinding",
    apiVersion: V1,
    metadata: { name, namespace },
    roleRef: { apiGroup: RBAC_GROUP, ...ref },
    subjects,
  };
}

export function clusterRoleBinding(
  name: string,
  clusterRoleName: string,
  subjects: Subject[],
): ClusterRoleBinding {
  return {
    kind: "ClusterRoleBinding",
    apiVersion: V1,
    metadata: { name },
    roleRef: { apiGroup: RBAC_GROUP, kind: "ClusterRole", name: clusterRoleName },
    subjects,
  };
}

export const userSubject = (name: string): Subject => ({ kind: "User", apiGroup: RBAC_GROUP, name });
export const groupSubject = (name: string): Subject => ({ kind: "Group", apiGroup: RBAC_GROUP, name });
export const saSubject = (name: string, namespace?: string): Subject =>
  namespace === undefined ? { kind: "ServiceAccount", name } : { kind: "ServiceAccount", name, namespace };

export function who(username: string, ...groups: string[]): UserInfo {
  return { username, groups };
}

export function resourceRequest(
  user: UserInfo,
  verb: string,
  resource: string,
  opts: { namespace?: string; group?: string; subresource?: string; name?: string } = {},
): RequestAttributes {
  return {
    kind: "resource",
    user,
    verb,
    namespace: opts.namespace ?? "",
    apiGroup: opts.group ?? "",
    apiVersion: "v1",
    resource,
    subresource: opts.subresource ?? "",
    name: opts.name ?? "",
  };
}

export function urlRequest(user: UserInfo, verb: string, path: string): RequestAttributes {
  return { kind: "nonResource", user, verb, path };
}
