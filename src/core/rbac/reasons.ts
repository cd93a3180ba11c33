/**
 * The texts kube-apiserver's RBAC authorizer writes, byte for byte: the "allowed by" reason, the
 * not-found error for a binding whose role is missing, and how several errors are joined
 * (apimachinery's utilerrors aggregate: duplicates dropped, more than one wrapped in [..]).
 */
import { goQuote } from "./go-quote.js";
import { describeSubject } from "./subjects.js";
import type { AnyBinding, RoleRef } from "./types.js";

/** `RBAC: allowed by ClusterRoleBinding "x" of ClusterRole "y" to User "z"` */
export function allowedReason(binding: AnyBinding, subjectIndex: number): string {
  return `RBAC: allowed by ${describeBindingSource(binding, subjectIndex)}`;
}

export function describeBindingSource(binding: AnyBinding, subjectIndex: number): string {
  const subject = binding.subjects[subjectIndex];
  const ns = binding.kind === "RoleBinding" ? binding.metadata.namespace : "";
  const name = binding.kind === "RoleBinding" ? `${binding.metadata.name}/${ns}` : binding.metadata.name;
  const who = subject ? describeSubject(subject, ns) : "";
  return `${binding.kind} ${goQuote(name)} of ${binding.roleRef.kind} ${goQuote(binding.roleRef.name)} to ${who}`;
}

/** The lister's NotFound error: `clusterrole.rbac.authorization.k8s.io "name" not found`. */
export function roleNotFound(ref: RoleRef): string {
  switch (ref.kind) {
    case "Role":
      return `role.rbac.authorization.k8s.io ${goQuote(ref.name)} not found`;
    case "ClusterRole":
      return `clusterrole.rbac.authorization.k8s.io ${goQuote(ref.name)} not found`;
    default:
      return `unsupported role reference kind: ${goQuote(String((ref as { kind: unknown }).kind))}`;
  }
}

/** utilerrors.NewAggregate(errs).Error(). */
export function aggregateErrors(messages: readonly string[]): string {
  const unique = [...new Set(messages)];
  if (unique.length <= 1) return unique[0] ?? "";
  return `[${unique.join(", ")}]`;
}

/** The reason RBAC gives with no opinion: empty, or the resolution errors met on the way. */
export function noOpinionReason(errors: readonly string[]): string {
  return errors.length === 0 ? "" : `RBAC: ${aggregateErrors(errors)}`;
}
