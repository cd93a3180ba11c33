import { objectKey, refOf, type ObjectRef, type RbacObject } from "../rbac/types.js";

/** The label on every RBAC object Gatehouse manages in a cluster; objects without it are never touched. */
export const MANAGED_LABEL = "gatehouse.io/managed";

export interface RbacSyncPlan {
  create: RbacObject[];
  update: RbacObject[];
  /** roleRef cannot change in Kubernetes: such bindings are deleted and created again. */
  recreate: RbacObject[];
  delete: ObjectRef[];
}

/** Give desired objects the managed label, so the next plan recognises them. */
export function markManaged(o: RbacObject): RbacObject {
  return {
    ...o,
    metadata: { ...o.metadata, labels: { ...(o.metadata.labels ?? {}), [MANAGED_LABEL]: "true" } },
  } as RbacObject;
}

function content(o: RbacObject): string {
  switch (o.kind) {
    case "Role":
    case "ClusterRole":
      return JSON.stringify(
        o.rules.map((r) => [
          r.verbs,
          r.apiGroups ?? [],
          r.resources ?? [],
          r.resourceNames ?? [],
          r.nonResourceURLs ?? [],
        ]),
      );
    case "RoleBinding":
    case "ClusterRoleBinding":
      return JSON.stringify(o.subjects.map((s) => [s.kind, s.name, s.namespace ?? ""]));
  }
}

function roleRefOf(o: RbacObject): string {
  return o.kind === "RoleBinding" || o.kind === "ClusterRoleBinding"
    ? `${o.roleRef.kind}/${o.roleRef.name}`
    : "";
}

/**
 * Plan, then apply: what to change in a cluster so its Gatehouse-managed RBAC equals the desired set.
 * `actual` must hold only objects carrying MANAGED_LABEL; anything else in the cluster is not ours.
 * Pure: the executor in src/clusters applies the plan.
 */
export function planRbacSync(desired: readonly RbacObject[], actual: readonly RbacObject[]): RbacSyncPlan {
  const have = new Map(actual.map((o) => [objectKey(refOf(o)), o]));
  const plan: RbacSyncPlan = { create: [], update: [], recreate: [], delete: [] };
  const wanted = new Set<string>();
  for (const d of desired) {
    const key = objectKey(refOf(d));
    wanted.add(key);
    const cur = have.get(key);
    if (!cur) plan.create.push(markManaged(d));
    else if (roleRefOf(cur) !== roleRefOf(d)) plan.recreate.push(markManaged(d));
    else if (content(cur) !== content(d) || cur.metadata.labels?.[MANAGED_LABEL] !== "true")
      plan.update.push(markManaged(d));
  }
  for (const [key, o] of have) if (!wanted.has(key)) plan.delete.push(refOf(o));
  // Roles before the bindings that use them; bindings deleted before their roles.
  const rolesFirst = (a: RbacObject, b: RbacObject): number =>
    Number(a.kind.endsWith("Binding")) - Number(b.kind.endsWith("Binding"));
  plan.create.sort(rolesFirst);
  plan.delete.sort((a, b) => Number(b.kind.endsWith("Binding")) - Number(a.kind.endsWith("Binding")));
  return plan;
}

export function planIsEmpty(p: RbacSyncPlan): boolean {
  return p.create.length + p.update.length + p.recreate.length + p.delete.length === 0;
}
