/** The gatehouse.io API group: one place that lists its resources for discovery and routing. */
export const GROUP = "gatehouse.io";
export const VERSION_NAME = "v1alpha1";
export const GROUP_VERSION = `${GROUP}/${VERSION_NAME}`;
export const API_PREFIX = `/apis/${GROUP_VERSION}`;

export interface ResourceInfo {
  name: string;
  singularName: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
  shortNames?: string[];
}

export const RESOURCES: readonly ResourceInfo[] = [
  {
    name: "users",
    singularName: "user",
    kind: "User",
    namespaced: false,
    verbs: ["create", "delete", "get", "list"],
  },
  {
    name: "clusters",
    singularName: "cluster",
    kind: "Cluster",
    namespaced: false,
    verbs: ["create", "delete", "get", "list", "update"],
  },
  {
    name: "teams",
    singularName: "team",
    kind: "Team",
    namespaced: false,
    verbs: ["create", "delete", "get", "list", "update"],
  },
  {
    name: "accessroles",
    singularName: "accessrole",
    kind: "AccessRole",
    namespaced: false,
    verbs: ["create", "delete", "get", "list", "update"],
  },
  {
    name: "accessbindings",
    singularName: "accessbinding",
    kind: "AccessBinding",
    namespaced: false,
    verbs: ["create", "delete", "get", "list", "update"],
    shortNames: ["ab"],
  },
  {
    name: "tenants",
    singularName: "tenant",
    kind: "Tenant",
    namespaced: false,
    verbs: ["create", "delete", "get", "list", "update"],
  },
  {
    name: "spaces",
    singularName: "space",
    kind: "Space",
    namespaced: false,
    verbs: ["list"],
  },
  {
    name: "identityproviders",
    singularName: "identityprovider",
    kind: "IdentityProvider",
    namespaced: false,
    verbs: ["create", "delete", "get", "list", "update"],
    shortNames: ["idp"],
  },
  {
    name: "accesskeys",
    singularName: "accesskey",
    kind: "AccessKey",
    namespaced: false,
    verbs: ["create", "delete", "get", "list"],
  },
  {
    name: "auditpolicies",
    singularName: "auditpolicy",
    kind: "AuditPolicy",
    namespaced: false,
    verbs: ["create", "delete", "get", "list", "update"],
  },
  {
    // Served as audit.k8s.io/v1 EventList (api/audit.ts); tail and follow are list parameters.
    name: "auditevents",
    singularName: "auditevent",
    kind: "Event",
    namespaced: false,
    verbs: ["list"],
  },
  {
    name: "auditverifications",
    singularName: "auditverification",
    kind: "AuditVerification",
    namespaced: false,
    verbs: ["create"],
  },
  {
    name: "sessions",
    singularName: "session",
    kind: "Session",
    namespaced: false,
    verbs: ["delete", "deletecollection", "list"],
  },
  {
    name: "reencryptions",
    singularName: "reencryption",
    kind: "Reencryption",
    namespaced: false,
    verbs: ["create"],
  },
];
