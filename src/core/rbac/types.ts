/**
 * rbac.authorization.k8s.io/v1 objects, in the JSON shape the API uses (optional lists may be
 * absent, as `omitempty` prints them). Everything the engine takes in or gives out is one of these.
 */
import type { LabelSelector } from "../k8s/labels.js";
import type { Source } from "../k8s/objects.js";

export const RBAC_GROUP = "rbac.authorization.k8s.io";

export interface PolicyRule {
  verbs: readonly string[];
  apiGroups?: readonly string[];
  resources?: readonly string[];
  resourceNames?: readonly string[];
  nonResourceURLs?: readonly string[];
}

export type SubjectKind = "User" | "Group" | "ServiceAccount";

export interface Subject {
  kind: SubjectKind;
  name: string;
  /** "rbac.authorization.k8s.io" for User and Group, "" for ServiceAccount (as v1 defaulting sets it). */
  apiGroup?: string;
  /** Only meaningful for ServiceAccount; empty in a RoleBinding means the binding's namespace. */
  namespace?: string;
}

export interface RoleRef {
  apiGroup: string;
  kind: "Role" | "ClusterRole";
  name: string;
}

export interface RbacMeta {
  name: string;
  namespace?: string;
  labels?: Readonly<Record<string, string>>;
  [key: string]: unknown;
}

export interface Role {
  kind: "Role";
  apiVersion: string;
  metadata: RbacMeta & { namespace: string };
  rules: readonly PolicyRule[];
}

export interface AggregationRule {
  clusterRoleSelectors?: readonly LabelSelector[];
}

export interface ClusterRole {
  kind: "ClusterRole";
  apiVersion: string;
  metadata: RbacMeta;
  rules: readonly PolicyRule[];
  aggregationRule?: AggregationRule;
}

export interface RoleBinding {
  kind: "RoleBinding";
  apiVersion: string;
  metadata: RbacMeta & { namespace: string };
  subjects: readonly Subject[];
  roleRef: RoleRef;
}

export interface ClusterRoleBinding {
  kind: "ClusterRoleBinding";
  apiVersion: string;
  metadata: RbacMeta;
  subjects: readonly Subject[];
  roleRef: RoleRef & { kind: "ClusterRole" };
}

export type AnyRole = Role | ClusterRole;
export type AnyBinding = RoleBinding | ClusterRoleBinding;
export type RbacObject = AnyRole | AnyBinding;
export type RbacKind = RbacObject["kind"];

/** An RBAC object with where it was read from, for error messages. */
export interface SourcedRbacObject {
  object: RbacObject;
  source: Source;
}

/** Identifies one object: kind, name and (for Role/RoleBinding) namespace. */
export interface ObjectRef {
  kind: RbacKind;
  name: string;
  namespace?: string;
}

/**
 * An authorizer's answer, as kube-apiserver's authorizer.Decision plus reason. RBAC never denies:
 * it allows or has no opinion, and "no opinion" is the zero value, so anything unsure fails closed.
 */
export interface Decision {
  decision: "allow" | "noOpinion";
  reason: string;
}

export const NO_OPINION: Decision = Object.freeze({ decision: "noOpinion", reason: "" });

/** The stable key of an object: "ClusterRole/name", "Role/ns/name". */
export function objectKey(ref: ObjectRef): string {
  return ref.kind === "Role" || ref.kind === "RoleBinding"
    ? `${ref.kind}/${ref.namespace ?? ""}/${ref.name}`
    : `${ref.kind}/${ref.name}`;
}

export function refOf(o: RbacObject): ObjectRef {
  return o.metadata.namespace !== undefined && (o.kind === "Role" || o.kind === "RoleBinding")
    ? { kind: o.kind, name: o.metadata.name, namespace: o.metadata.namespace }
    : { kind: o.kind, name: o.metadata.name };
}

export function isRole(o: RbacObject): o is AnyRole {
  return o.kind === "Role" || o.kind === "ClusterRole";
}

export function isBinding(o: RbacObject): o is AnyBinding {
  return o.kind === "RoleBinding" || o.kind === "ClusterRoleBinding";
}
