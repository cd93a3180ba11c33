/**
 * Which binding subjects apply to a user, and how kube-apiserver names them in reasons
 * (pkg/registry/rbac/validation/rule.go appliesToUser / describeSubject).
 *
 * Groups are matched by name only: "system:serviceaccounts", "system:serviceaccounts:NS",
 * "system:authenticated" and "system:unauthenticated" mean nothing special to RBAC itself; the
 * authenticator (or impersonation, see impersonatedUser) puts them on the user.
 */
import type { UserInfo } from "../k8s/attributes.js";
import { goQuote } from "./go-quote.js";
import type { Subject } from "./types.js";

export const SA_USER_PREFIX = "system:serviceaccount:";
export const SA_ALL_GROUP = "system:serviceaccounts";
export const SA_GROUP_PREFIX = "system:serviceaccounts:";
export const AUTHENTICATED = "system:authenticated";
export const UNAUTHENTICATED = "system:unauthenticated";
export const ANONYMOUS = "system:anonymous";
export const PRIVILEGED_GROUP = "system:masters";

export function serviceAccountUsername(namespace: string, name: string): string {
  return `${SA_USER_PREFIX}${namespace}:${name}`;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * "system:serviceaccount:NS:NAME" → {namespace, name}, as serviceaccount.SplitUsername: exactly two
 * parts, a valid namespace name and a valid service account name; anything else is a plain user.
 */
export function parseServiceAccountUsername(username: string): { namespace: string; name: string } | null {
  if (!username.startsWith(SA_USER_PREFIX)) return null;
  const parts = username.slice(SA_USER_PREFIX.length).split(":");
  if (parts.length !== 2) return null;
  const [namespace = "", name = ""] = parts;
  if (namespace.length > 63 || !DNS_LABEL.test(namespace)) return null;
  if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) return null;
  return { namespace, name };
}

/**
 * The username a subject stands for, or null when it names a group or can never match.
 * A ServiceAccount without a namespace takes the binding's namespace; in a ClusterRoleBinding
 * (bindingNamespace "") it matches nobody, as in Kubernetes.
 */
export function subjectUsername(s: Subject, bindingNamespace: string): string | null {
  switch (s.kind) {
    case "User":
      return s.name;
    case "ServiceAccount": {
      const ns = s.namespace !== undefined && s.namespace !== "" ? s.namespace : bindingNamespace;
      return ns === "" ? null : serviceAccountUsername(ns, s.name);
    }
    case "Group":
      return null;
    default:
      return null;
  }
}

export function appliesToUser(user: UserInfo, s: Subject, bindingNamespace: string): boolean {
  switch (s.kind) {
    case "User":
      return user.username === s.name;
    case "Group":
      return user.groups.includes(s.name);
    case "ServiceAccount":
      return subjectUsername(s, bindingNamespace) === user.username;
    default:
      return false;
  }
}

/** Index of the first subject that applies, or -1 (kube-apiserver names the first one in reasons). */
export function firstApplyingSubject(
  user: UserInfo,
  subjects: readonly Subject[],
  bindingNamespace: string,
): number {
  for (let i = 0; i < subjects.length; i++) {
    if (appliesToUser(user, subjects[i] as Subject, bindingNamespace)) return i;
  }
  return -1;
}

/** `User "alice"`, `ServiceAccount "sa/ns"` (name first, as kube-apiserver writes it). */
export function describeSubject(s: Subject, bindingNamespace: string): string {
  if (s.kind === "ServiceAccount") {
    const ns = s.namespace !== undefined && s.namespace !== "" ? s.namespace : bindingNamespace;
    return `${s.kind} ${goQuote(`${s.name}/${ns}`)}`;
  }
  return `${s.kind} ${goQuote(s.name)}`;
}

/**
 * The user kube-apiserver's impersonation filter builds for `--as USER --as-group G...`: a service
 * account username without groups gets its two service-account groups; everyone but
 * system:anonymous gets system:authenticated unless system:authenticated or system:unauthenticated
 * was asked for; system:anonymous gets system:unauthenticated.
 */
export function impersonatedUser(username: string, asGroups: readonly string[]): UserInfo {
  let groups = [...asGroups];
  const sa = parseServiceAccountUsername(username);
  if (sa && groups.length === 0) groups = [SA_ALL_GROUP, `${SA_GROUP_PREFIX}${sa.namespace}`];
  if (username !== ANONYMOUS) {
    if (!groups.includes(AUTHENTICATED) && !groups.includes(UNAUTHENTICATED)) groups.push(AUTHENTICATED);
  } else if (!groups.includes(UNAUTHENTICATED)) {
    groups.push(UNAUTHENTICATED);
  }
  return { username, groups };
}
