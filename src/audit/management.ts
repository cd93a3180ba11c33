import type { GatehouseEventKind } from "../core/audit/index.js";
import type { RequestAttributes } from "../core/k8s/index.js";

const RESOURCE_PREFIX: Readonly<Record<string, string>> = {
  users: "user",
  teams: "team",
  clusters: "cluster",
  accessbindings: "accessbinding",
};

/**
 * The Gatehouse event kind (docs/audit.md) of a successful management-API write, or undefined for
 * writes outside that closed set. The request itself is recorded either way.
 */
export function managementEventKind(a: RequestAttributes): GatehouseEventKind | undefined {
  if (a.kind !== "resource" || a.apiGroup !== "gatehouse.io" || a.subresource !== "") return undefined;
  if (a.resource === "accesskeys") {
    if (a.verb === "create") return "accesskey.issued";
    if (a.verb === "delete") return "accesskey.revoked";
    return undefined;
  }
  const prefix = RESOURCE_PREFIX[a.resource];
  if (!prefix) return undefined;
  const suffix =
    a.verb === "create"
      ? "created"
      : a.verb === "update" || a.verb === "patch"
        ? "updated"
        : a.verb === "delete"
          ? "deleted"
          : undefined;
  return suffix ? (`${prefix}.${suffix}` as GatehouseEventKind) : undefined;
}
