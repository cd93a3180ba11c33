import type { AccessSubject, ClusterScope } from "../access/types.js";

/**
 * Tenancy (gatehouse.io/v1alpha1 Tenant) as plain data. A tenant owns "spaces": namespaces on the
 * clusters it may use, created by its owners, isolated by default, within quotas.
 */

/** The label every space namespace carries; the namespace list filter and the policies select on it. */
export const TENANT_LABEL = "gatehouse.io/tenant";
/**
 * Every object Gatehouse keeps in a space (and the namespace) carries gatehouse.io/managed=tenancy.
 * The RBAC sync owns gatehouse.io/managed=true; a different value keeps the two from deleting each
 * other's objects.
 */
export const MANAGED_LABEL = "gatehouse.io/managed";
export const MANAGED_VALUE = "tenancy";
/** Gatehouse-store objects (AccessBindings, AccessRoles) derived from tenants carry this label. */
export const DERIVED_LABEL = "gatehouse.io/tenancy";
/** The annotation that picks a tenant on `kubectl create namespace` when the caller owns several. */
export const TENANT_ANNOTATION = "gatehouse.io/tenant";

export type PodSecurityLevel = "privileged" | "baseline" | "restricted";

/** A ResourceQuota `hard` map: resource name → quantity string (e.g. "requests.cpu": "2"). */
export type Hard = Readonly<Record<string, string>>;

export interface TenantQuota {
  /** Every space's ResourceQuota.spec.hard. */
  space?: Hard;
  /** The sum over the tenant's spaces on one cluster may not exceed this. */
  perCluster?: Hard;
  /** The sum over all the tenant's spaces may not exceed this. */
  total?: Hard;
}

export interface LimitRangeTemplate {
  /** Container default limits. */
  default?: Hard;
  /** Container default requests. */
  defaultRequest?: Hard;
  max?: Hard;
  min?: Hard;
}

export interface TenantTemplates {
  /** Default-deny plus allow-within-tenant plus DNS (true). */
  networkPolicies: boolean;
  podSecurity: PodSecurityLevel;
  /** undefined: Gatehouse's default LimitRange; false: none. */
  limitRange: LimitRangeTemplate | false;
  /** The role (built-in or AccessRole) owners and members get in each space. */
  roleBindings: { owners: string; members: string | false };
  /** Extra namespaced objects created in every space. */
  objects: readonly TemplateObject[];
}

/** A namespaced object from spec.templates.objects, as given (namespace is set per space). */
export interface TemplateObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [k: string]: unknown;
}

export interface NamingRules {
  prefix?: string;
  /** An anchored ECMAScript regular expression every space name must match. */
  pattern?: string;
}

export interface Tenant {
  name: string;
  owners: readonly AccessSubject[];
  members: readonly AccessSubject[];
  clusters: ClusterScope;
  naming: NamingRules;
  /** undefined: no limit. */
  maxSpaces?: number;
  quota: TenantQuota;
  templates: TenantTemplates;
}

/** A space as the store keeps it: one namespace on one cluster, owned by one tenant. */
export interface Space {
  tenant: string;
  cluster: string;
  namespace: string;
}

/** What a space namespace's metadata.labels must include. */
export function spaceNamespaceLabels(t: Tenant): Record<string, string> {
  const level = t.templates.podSecurity;
  return {
    [TENANT_LABEL]: t.name,
    [MANAGED_LABEL]: MANAGED_VALUE,
    "pod-security.kubernetes.io/enforce": level,
    "pod-security.kubernetes.io/enforce-version": "latest",
    "pod-security.kubernetes.io/warn": level,
    "pod-security.kubernetes.io/warn-version": "latest",
    "pod-security.kubernetes.io/audit": level,
    "pod-security.kubernetes.io/audit-version": "latest",
  };
}
