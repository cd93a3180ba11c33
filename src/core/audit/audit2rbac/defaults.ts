import { RBAC_GROUP, type RbacObject } from "../../rbac/index.js";

const V1 = `${RBAC_GROUP}/v1`;
const AUTHENTICATED = { apiGroup: RBAC_GROUP, kind: "Group" as const, name: "system:authenticated" };
const UNAUTHENTICATED = { apiGroup: RBAC_GROUP, kind: "Group" as const, name: "system:unauthenticated" };

/**
 * Access every cluster grants and audit2rbac therefore never generates: its system:discovery role
 * (get on /healthz, /version, /swagger*, /openapi*, /api*) bound to system:authenticated and
 * system:unauthenticated. Added beside it, from Kubernetes' default bootstrap policy:
 * system:public-info-viewer (/livez, /readyz) and system:basic-user (self subject access, rules and
 * user reviews, which `kubectl auth can-i` and `kubectl auth whoami` create), so those calls do not
 * turn into rules a cluster already has.
 */
export const DEFAULT_ACCESS: readonly RbacObject[] = Object.freeze([
  {
    apiVersion: V1,
    kind: "ClusterRole",
    metadata: { name: "system:discovery" },
    rules: [{ verbs: ["get"], nonResourceURLs: ["/healthz", "/version", "/swagger*", "/openapi*", "/api*"] }],
  },
  {
    apiVersion: V1,
    kind: "ClusterRoleBinding",
    metadata: { name: "system:discovery" },
    subjects: [AUTHENTICATED, UNAUTHENTICATED],
    roleRef: { apiGroup: RBAC_GROUP, kind: "ClusterRole", name: "system:discovery" },
  },
  {
    apiVersion: V1,
    kind: "ClusterRole",
    metadata: { name: "system:public-info-viewer" },
    rules: [{ verbs: ["get"], nonResourceURLs: ["/healthz", "/livez", "/readyz", "/version", "/version/"] }],
  },
  {
    apiVersion: V1,
    kind: "ClusterRoleBinding",
    metadata: { name: "system:public-info-viewer" },
    subjects: [AUTHENTICATED, UNAUTHENTICATED],
    roleRef: { apiGroup: RBAC_GROUP, kind: "ClusterRole", name: "system:public-info-viewer" },
  },
  {
    apiVersion: V1,
    kind: "ClusterRole",
    metadata: { name: "system:basic-user" },
    rules: [
      {
        verbs: ["create"],
        apiGroups: ["authorization.k8s.io"],
        resources: ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
      },
      { verbs: ["create"], apiGroups: ["authentication.k8s.io"], resources: ["selfsubjectreviews"] },
    ],
  },
  {
    apiVersion: V1,
    kind: "ClusterRoleBinding",
    metadata: { name: "system:basic-user" },
    subjects: [AUTHENTICATED],
    roleRef: { apiGroup: RBAC_GROUP, kind: "ClusterRole", name: "system:basic-user" },
  },
]);
