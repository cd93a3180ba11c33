/**
 * The contracts every RBAC evaluator implements: the indexed one the gateway uses (RbacIndex) and the
 * linear one that walks bindings as kube-apiserver does (LinearRbac, the test oracle and benchmark
 * baseline). Rules review, who-can and escalation checks are written against these, so they run
 * on either.
 */
import type { RequestAttributes, UserInfo } from "../k8s/attributes.js";
import type {
  AnyBinding,
  AnyRole,
  ClusterRoleBinding,
  Decision,
  ObjectRef,
  PolicyRule,
  RbacObject,
  RoleBinding,
  RoleRef,
} from "./types.js";

export interface Authorizer {
  /** kube-apiserver's RBACAuthorizer.Authorize: allow with "RBAC: allowed by ...", or no opinion. */
  authorize(a: RequestAttributes): Decision;
}

/** A rule that applies to a user, with the binding that granted it. */
export interface ResolvedRule {
  rule: PolicyRule;
  binding: AnyBinding;
}

export interface ResolvedRules {
  rules: ResolvedRule[];
  /** Errors met resolving role references (missing roles), in visiting order. */
  errors: string[];
}

export interface RuleResolver {
  /** Every rule that applies to the user in the namespace ("" = cluster scope only), in kube-apiserver's order. */
  rulesFor(user: UserInfo, namespace: string): ResolvedRules;
}

export type RoleLookup = { found: true; role: AnyRole } | { found: false; error: string };

export interface PolicyView {
  /** GetRoleReferenceRules: the role a binding in bindingNamespace ("" for a ClusterRoleBinding) refers to. */
  resolveRoleRef(ref: RoleRef, bindingNamespace: string): RoleLookup;
  /** ClusterRoleBindings in evaluation order. */
  clusterRoleBindings(): Iterable<ClusterRoleBinding>;
  /** RoleBindings of one namespace in evaluation order. */
  roleBindings(namespace: string): Iterable<RoleBinding>;
  /** Namespaces that hold at least one RoleBinding. */
  bindingNamespaces(): Iterable<string>;
  get(ref: ObjectRef): RbacObject | undefined;
}

/** A policy store that can change one object at a time. Updating = remove + add (goes last in order). */
export interface MutablePolicy {
  upsert(o: RbacObject): void;
  remove(ref: ObjectRef): boolean;
}

export type RbacEngine = Authorizer & RuleResolver & PolicyView & MutablePolicy;
