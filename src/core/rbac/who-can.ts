/**
 * Subject lookup: who can do an action. As kube-apiserver's SubjectAccessEvaluator.AllowedSubjects
 * (plugin/pkg/auth/authorizer/rbac/subject_locator.go): the group system:masters always, then the
 * subjects of every ClusterRoleBinding whose role allows the action, then (for a namespaced action)
 * of every RoleBinding in that namespace whose role allows it there. Bindings whose role is missing
 * are reported as errors and skipped. With allNamespaces, RoleBindings of every namespace are
 * checked, each against the action in its own namespace (as `kubectl who-can -A`).
 */
import type { NonResourceAttributes, ResourceAttributes } from "../k8s/attributes.js";
import type { PolicyView } from "./engine.js";
import { rulesAllow } from "./rule-match.js";
import { PRIVILEGED_GROUP } from "./subjects.js";
import {
  RBAC_GROUP,
  type AnyBinding,
  type ClusterRoleBinding,
  type RoleBinding,
  type Subject,
} from "./types.js";

export type Action = Omit<ResourceAttributes, "user"> | Omit<NonResourceAttributes, "user">;

export interface WhoCanResult {
  /** AllowedSubjects' answer: system:masters first, then binding subjects in order, duplicates removed. */
  subjects: Subject[];
  clusterRoleBindings: ClusterRoleBinding[];
  roleBindings: RoleBinding[];
  errors: string[];
}

export function whoCan(
  view: PolicyView,
  action: Action,
  opts: { allNamespaces?: boolean } = {},
): WhoCanResult {
  const result: WhoCanResult = {
    subjects: [{ kind: "Group", apiGroup: RBAC_GROUP, name: PRIVILEGED_GROUP }],
    clusterRoleBindings: [],
    roleBindings: [],
    errors: [],
  };
  // Many bindings share a role: remember each role reference's answer per namespace.
  const memo = new Map<string, boolean | string>();
  const allows = (b: AnyBinding, namespace: string): boolean => {
    const key = `${b.roleRef.kind}/${b.roleRef.kind === "Role" ? namespace : ""}/${b.roleRef.name}/${namespace}`;
    let v = memo.get(key);
    if (v === undefined) {
      const r = view.resolveRoleRef(b.roleRef, b.kind === "RoleBinding" ? namespace : "");
      const attrs =
        action.kind === "resource"
          ? { ...action, namespace, user: { username: "", groups: [] } }
          : { ...action, user: { username: "", groups: [] } };
      v = r.found ? rulesAllow(attrs, r.role.rules) : r.error;
      memo.set(key, v);
    }
    if (typeof v === "string") {
      result.errors.push(v);
      return false;
    }
    return v;
  };

  const requestNamespace = action.kind === "resource" ? action.namespace : "";
  for (const b of view.clusterRoleBindings()) {
    if (allows(b, requestNamespace)) result.clusterRoleBindings.push(b);
  }
  if (action.kind === "resource") {
    const namespaces = opts.allNamespaces
      ? [...view.bindingNamespaces()]
      : requestNamespace
        ? [requestNamespace]
        : [];
    for (const ns of namespaces) {
      for (const b of view.roleBindings(ns)) if (allows(b, ns)) result.roleBindings.push(b);
    }
  }
  for (const b of [...result.clusterRoleBindings, ...result.roleBindings]) {
    for (const s of b.subjects) {
      if (!result.subjects.some((x) => sameSubject(x, s))) result.subjects.push(s);
    }
  }
  return result;
}

function sameSubject(a: Subject, b: Subject): boolean {
  return (
    a.kind === b.kind &&
    a.name === b.name &&
    (a.namespace ?? "") === (b.namespace ?? "") &&
    (a.apiGroup ?? "") === (b.apiGroup ?? "")
  );
}
