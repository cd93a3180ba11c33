/**
 * Would kube-apiserver accept these RBAC objects from this user, sent one after another as
 * `kubectl apply -f` sends them? For each object: RBAC must allow the request itself (create, or
 * patch of an object that exists; a create names no object), then the escalation checks must pass
 * (escalation.ts). Accepted objects are applied to the engine before the next is checked, so a Role
 * earlier in the list is there for a binding later in it. The engine is changed: pass a fresh one.
 */
import type { UserInfo } from "../k8s/attributes.js";
import { goQuote } from "./go-quote.js";
import type { RbacEngine } from "./engine.js";
import { canCreateBinding, canCreateRole, type GrantCheck } from "./escalation.js";
import { PRIVILEGED_GROUP } from "./subjects.js";
import { RBAC_GROUP, refOf, type PolicyRule, type RbacObject } from "./types.js";

export interface ApplyVerdict {
  object: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } };
  allowed: boolean;
  /** The requested rules' pieces the user does not hold (covers), when that is why it is refused. */
  uncovered: PolicyRule[];
  /** How it is allowed (privilegedGroup, escalate, bind, covered), or kube-apiserver's refusal text. */
  reason: string;
}

const RESOURCE: Record<RbacObject["kind"], string> = {
  Role: "roles",
  ClusterRole: "clusterroles",
  RoleBinding: "rolebindings",
  ClusterRoleBinding: "clusterrolebindings",
};

function requestCheck(engine: RbacEngine, user: UserInfo, o: RbacObject, exists: boolean): GrantCheck | null {
  if (user.groups.includes(PRIVILEGED_GROUP)) return null;
  const namespace = o.kind === "Role" || o.kind === "RoleBinding" ? o.metadata.namespace : "";
  const verb = exists ? "patch" : "create";
  const d = engine.authorize({
    kind: "resource",
    user,
    verb,
    namespace,
    apiGroup: RBAC_GROUP,
    apiVersion: "v1",
    resource: RESOURCE[o.kind],
    subresource: "",
    name: exists ? o.metadata.name : "",
  });
  if (d.decision === "allow") return null;
  const scope = namespace ? `in the namespace ${goQuote(namespace)}` : "at the cluster scope";
  return {
    allowed: false,
    uncovered: [],
    message: `User ${goQuote(user.username)} cannot ${verb} resource ${goQuote(RESOURCE[o.kind])} in API group ${goQuote(RBAC_GROUP)} ${scope}`,
  };
}

export function checkApply(
  engine: RbacEngine,
  user: UserInfo,
  objects: readonly RbacObject[],
): ApplyVerdict[] {
  const ctx = { authorizer: engine, rules: engine, resolveRoleRef: engine.resolveRoleRef.bind(engine) };
  return objects.map((o) => {
    const existing = engine.get(refOf(o));
    let check = requestCheck(engine, user, o, existing !== undefined);
    if (check === null) {
      check =
        o.kind === "Role" || o.kind === "ClusterRole"
          ? canCreateRole(ctx, user, o, existing?.kind === o.kind ? existing : undefined)
          : canCreateBinding(ctx, user, o, existing?.kind === o.kind ? existing : undefined);
    }
    if (check.allowed) engine.upsert(o);
    const metadata =
      o.kind === "Role" || o.kind === "RoleBinding"
        ? { name: o.metadata.name, namespace: o.metadata.namespace }
        : { name: o.metadata.name };
    return {
      object: { apiVersion: o.apiVersion, kind: o.kind, metadata },
      allowed: check.allowed,
      uncovered: check.uncovered,
      reason: check.allowed ? check.via : check.message,
    };
  });
}
