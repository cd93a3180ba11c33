import { appliesToCluster, toRbacSubject } from "../access/compile.js";
import type { AccessSubject, ClusterFacts } from "../access/types.js";
import type { Tenant } from "./types.js";
import { checkSpaceName } from "./validate.js";

interface Who {
  username: string;
  groups: readonly string[];
}

function names(user: Who, subjects: readonly AccessSubject[]): boolean {
  return subjects.some((s) => {
    const r = toRbacSubject(s);
    return r.kind === "User" ? r.name === user.username : user.groups.includes(r.name);
  });
}

/** Whether the user (with their team groups) is an owner of the tenant. */
export function isOwner(user: Who, t: Tenant): boolean {
  return names(user, t.owners);
}

/** Whether the user is an owner or a member. */
export function isMember(user: Who, t: Tenant): boolean {
  return names(user, t.owners) || names(user, t.members);
}

/** Whether the tenant may have spaces on the cluster. */
export function tenantUsesCluster(t: Tenant, c: ClusterFacts): boolean {
  return appliesToCluster({ name: "", subjects: [], roleRef: { name: "" }, clusters: t.clusters }, c);
}

/**
 * Which of the caller's tenants a new namespace belongs to: the one named by label or annotation, else
 * the only one, else the only one whose naming rules (prefix, pattern) accept the name, else the only
 * one of those with a prefix. Returns the tenant or why not.
 */
export function chooseTenant(
  owned: readonly Tenant[],
  name: string,
  named: string | undefined,
): Tenant | { problem: string } {
  if (named !== undefined) {
    const t = owned.find((x) => x.name === named);
    return t ?? { problem: `you are not an owner of tenant ${JSON.stringify(named)} on this cluster` };
  }
  if (owned.length === 1) return owned[0] as Tenant;
  const fits = owned.filter((t) => checkSpaceName(t, name) === undefined);
  if (fits.length === 1) return fits[0] as Tenant;
  // A prefix is a claim on the name: it wins over tenants that accept any name.
  const claimed = fits.filter((t) => t.naming.prefix !== undefined);
  if (claimed.length === 1) return claimed[0] as Tenant;
  return {
    problem: `you own several tenants here (${owned.map((t) => t.name).join(", ")}) and ${fits.length === 0 ? "none" : "more than one"} of them accepts this name: label the namespace gatehouse.io/tenant=NAME to choose one`,
  };
}
