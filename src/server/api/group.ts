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
    name: "accesskeys",
    singularName: "accesskey",
    kind: "AccessKey",
    namespaced: false,
    verbs: ["create", "delete", "get", "list"],
  },
  {
    name: "reencryptions",
    singularName: "reencryption",
    kind: "Reencryption",
    namespaced: false,
    verbs: ["create"],
  },
];
