import { stringify } from "yaml";

/**
 * The least-privilege identity Gatehouse uses on a cluster: a service account whose only power is to
 * impersonate. Every request the gateway forwards carries Impersonate-* headers naming the real
 * caller, so the cluster's own RBAC decides as if that caller had come directly; a request whose
 * impersonation headers were somehow lost arrives as this service account, which may do nothing,
 * and fails closed at the cluster.
 *
 * RBAC note: impersonating an extra checks resource "userextras/<KEY>" in authentication.k8s.io, and
 * RBAC has no "resource/*" wildcard (only "*" and "*\/subresource"), so "userextras/*" would match no
 * real key. As in Pinniped's impersonation proxy, the second rule grants "*" in authentication.k8s.io
 * for the verb impersonate: that is uids and every userextras key, and nothing else, since no other
 * resource of that group is checked with the verb impersonate.
 */
export const IMPERSONATOR = {
  namespace: "gatehouse-system",
  serviceAccount: "gatehouse-gateway",
  clusterRole: "gatehouse:impersonator",
  clusterRoleBinding: "gatehouse:impersonator",
  /**
   * Who Gatehouse's own controllers (RBAC sync, tenant spaces, tenant verify) act as, by impersonation
   * with the same token: their writes show under this name in the cluster's audit log, and the token
   * alone still may do nothing.
   */
  controllerUser: "gatehouse:controller",
  controllerBinding: "gatehouse:controller",
  /**
   * Role and RoleBinding (namespace gatehouse-system) that let the service account ask the TokenRequest
   * API for tokens of itself and of nobody else, so Gatehouse renews the stored token before it expires.
   */
  tokenRenewer: "gatehouse:token-renewer",
} as const;

const MANAGED_BY = { "app.kubernetes.io/managed-by": "gatehouse" } as const;

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  resourceNames?: string[];
  verbs: string[];
}

/** Exactly the rules of the impersonator ClusterRole. */
export function impersonatorRules(): PolicyRule[] {
  return [
    { apiGroups: [""], resources: ["users", "groups", "serviceaccounts"], verbs: ["impersonate"] },
    { apiGroups: ["authentication.k8s.io"], resources: ["*"], verbs: ["impersonate"] },
  ];
}

export interface ManifestObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels: Record<string, string> };
  [k: string]: unknown;
}

/**
 * Exactly the rules of the token-renewer Role: `create` on `serviceaccounts/token` of this one service
 * account. RBAC checks a TokenRequest as verb create, resource serviceaccounts, subresource token, with
 * the service account's name as the resource name, so the token can mint tokens for itself only; it
 * cannot name another service account, list, get or change any (tested against a real API server).
 */
export function tokenRenewerRules(): PolicyRule[] {
  return [
    {
      apiGroups: [""],
      resources: ["serviceaccounts/token"],
      resourceNames: [IMPERSONATOR.serviceAccount],
      verbs: ["create"],
    },
  ];
}

/** The seven objects, in the order they must be created. */
export function impersonatorObjects(): ManifestObject[] {
  const {
    namespace,
    serviceAccount,
    clusterRole,
    clusterRoleBinding,
    controllerUser,
    controllerBinding,
    tokenRenewer,
  } = IMPERSONATOR;
  return [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace, labels: { ...MANAGED_BY } } },
    {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: serviceAccount, namespace, labels: { ...MANAGED_BY } },
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: clusterRole, labels: { ...MANAGED_BY } },
      rules: impersonatorRules(),
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: clusterRoleBinding, labels: { ...MANAGED_BY } },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterRole },
      subjects: [{ kind: "ServiceAccount", name: serviceAccount, namespace }],
    },
    // Renewal of the stored token with the token itself: the admin's credential is needed only once.
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: tokenRenewer, namespace, labels: { ...MANAGED_BY } },
      rules: tokenRenewerRules(),
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: tokenRenewer, namespace, labels: { ...MANAGED_BY } },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: tokenRenewer },
      subjects: [{ kind: "ServiceAccount", name: serviceAccount, namespace }],
    },
    // The controllers must write any RBAC (sync) and any namespaced object (tenant templates), which
    // needs escalate and bind, i.e. cluster-admin; reaching it takes impersonation, never the token alone.
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: controllerBinding, labels: { ...MANAGED_BY } },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" },
      subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: controllerUser }],
    },
  ];
}

/** The objects as one multi-document YAML, for `kubectl apply -f -` by hand. */
export function impersonatorManifest(): string {
  return impersonatorObjects()
    .map((o) => stringify(o, { lineWidth: 0 }))
    .join("---\n");
}
