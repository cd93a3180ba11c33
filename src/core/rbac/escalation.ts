/**
 * Escalation prevention, as kube-apiserver's RBAC storage enforces it (pkg/registry/rbac):
 *
 * - Creating or updating a Role/ClusterRole is allowed to members of system:masters; to a user
 *   RBAC allows the `escalate` verb on that roles/clusterroles resource (by name on update only: a
 *   create request names no object); otherwise only if the user's own rules in the role's namespace
 *   (cluster-wide rules only, for a ClusterRole) cover every rule (ConfirmNoEscalation). A
 *   ClusterRole with an aggregationRule additionally needs the user to hold everything (* on *.*
 *   and * on every URL), since aggregation can gather anything.
 * - Creating or updating a binding is allowed to system:masters; to a user allowed the `bind`
 *   verb on the referenced role (checked in the binding's namespace, "" for a ClusterRoleBinding);
 *   otherwise only if the referenced role exists and the user's rules in the binding's namespace
 *   cover its rules.
 */
import type { UserInfo } from "../k8s/attributes.js";
import { compactRules, compactString } from "./compact.js";
import { covers } from "./covers.js";
import type { Authorizer, RoleLookup, RuleResolver } from "./engine.js";
import { goCompare, goQuote, goQuoteList } from "./go-quote.js";
import { aggregateErrors } from "./reasons.js";
import { PRIVILEGED_GROUP } from "./subjects.js";
import { RBAC_GROUP, type AnyBinding, type AnyRole, type PolicyRule, type RoleRef } from "./types.js";

export type GrantVia = "privilegedGroup" | "escalate" | "bind" | "covered";

export type GrantCheck =
  | { allowed: true; via: GrantVia; uncovered: [] }
  | { allowed: false; message: string; uncovered: PolicyRule[] };

export interface EscalationContext {
  authorizer: Authorizer;
  rules: RuleResolver;
  /** How a binding's roleRef resolves (GetRoleReferenceRules). */
  resolveRoleRef(ref: RoleRef, bindingNamespace: string): RoleLookup;
}

const FULL_AUTHORITY: readonly PolicyRule[] = [
  { verbs: ["*"], apiGroups: ["*"], resources: ["*"] },
  { verbs: ["*"], nonResourceURLs: ["*"] },
];

function allowed(via: GrantVia): GrantCheck {
  return { allowed: true, via, uncovered: [] };
}

/** ConfirmNoEscalation: the uncovered pieces and kube-apiserver's message for them. */
function confirmNoEscalation(
  ctx: EscalationContext,
  user: UserInfo,
  namespace: string,
  rules: readonly PolicyRule[],
) {
  const owner = ctx.rules.rulesFor(user, namespace);
  const uncovered = covers(
    owner.rules.map((r) => r.rule),
    rules,
  );
  if (uncovered.length === 0) return null;
  const lines = [...new Set(compactRules(uncovered).map(compactString))].sort(goCompare);
  let message =
    `user ${goQuote(user.username)} (groups=${goQuoteList(user.groups)}) is attempting to grant RBAC permissions not currently held:\n` +
    lines.join("\n");
  // The storage layer resolves roles through its registry, whose NotFound names the plural resource.
  const errors = owner.errors.map((e) => e.replace(/^(cluster)?role\./, (m) => `${m.slice(0, -1)}s.`));
  if (errors.length > 0) message += `; resolution errors: [${aggregateErrors(errors)}]`;
  return { uncovered, message };
}

function forbidden(resource: string, name: string, detail: string): string {
  return `${resource}.${RBAC_GROUP} ${goQuote(name)} is forbidden: ${detail}`;
}

/**
 * Would Kubernetes let the user create (or, with `existing`, update) this Role or ClusterRole?
 */
export function canCreateRole(
  ctx: EscalationContext,
  user: UserInfo,
  role: AnyRole,
  existing?: AnyRole,
): GrantCheck {
  if (user.groups.includes(PRIVILEGED_GROUP)) return allowed("privilegedGroup");
  const resource = role.kind === "Role" ? "roles" : "clusterroles";
  const namespace = role.kind === "Role" ? role.metadata.namespace : "";
  const escalate = ctx.authorizer.authorize({
    kind: "resource",
    user,
    verb: "escalate",
    namespace,
    apiGroup: RBAC_GROUP,
    apiVersion: "*",
    resource,
    subresource: "",
    name: existing ? role.metadata.name : "",
  });
  if (escalate.decision === "allow") return allowed("escalate");
  const missing = confirmNoEscalation(ctx, user, namespace, role.rules);
  if (missing) {
    return {
      allowed: false,
      uncovered: missing.uncovered,
      message: forbidden(resource, role.metadata.name, missing.message),
    };
  }
  const aggregating = (r: AnyRole | undefined) =>
    r?.kind === "ClusterRole" && (r.aggregationRule?.clusterRoleSelectors ?? []).length > 0;
  if (aggregating(role) || aggregating(existing)) {
    const full = confirmNoEscalation(ctx, user, namespace, FULL_AUTHORITY);
    if (full)
      return {
        allowed: false,
        uncovered: full.uncovered,
        message: forbidden(
          resource,
          role.metadata.name,
          "must have cluster-admin privileges to use the aggregationRule",
        ),
      };
  }
  return allowed("covered");
}

/**
 * Would Kubernetes let the user create (or update) this RoleBinding or ClusterRoleBinding?
 * An update may not change roleRef; that is refused as kube-apiserver's validation refuses it.
 */
export function canCreateBinding(
  ctx: EscalationContext,
  user: UserInfo,
  binding: AnyBinding,
  existing?: AnyBinding,
): GrantCheck {
  const resource = binding.kind === "RoleBinding" ? "rolebindings" : "clusterrolebindings";
  const name = binding.metadata.name;
  if (
    existing &&
    (existing.roleRef.kind !== binding.roleRef.kind || existing.roleRef.name !== binding.roleRef.name)
  ) {
    return {
      allowed: false,
      uncovered: [],
      message: `${binding.kind}.${RBAC_GROUP} ${goQuote(name)} is invalid: roleRef: Invalid value: cannot change roleRef`,
    };
  }
  if (user.groups.includes(PRIVILEGED_GROUP)) return allowed("privilegedGroup");
  const namespace = binding.kind === "RoleBinding" ? binding.metadata.namespace : "";
  const bind = ctx.authorizer.authorize({
    kind: "resource",
    user,
    verb: "bind",
    namespace,
    apiGroup: binding.roleRef.apiGroup,
    apiVersion: "*",
    resource: binding.roleRef.kind === "Role" ? "roles" : "clusterroles",
    subresource: "",
    name: binding.roleRef.name,
  });
  if (bind.decision === "allow") return allowed("bind");
  const role = ctx.resolveRoleRef(binding.roleRef, namespace);
  if (!role.found) {
    const plural = binding.roleRef.kind === "Role" ? "roles" : "clusterroles";
    return {
      allowed: false,
      uncovered: [],
      message: `${plural}.${RBAC_GROUP} ${goQuote(binding.roleRef.name)} not found`,
    };
  }
  const missing = confirmNoEscalation(ctx, user, namespace, role.role.rules);
  if (missing)
    return {
      allowed: false,
      uncovered: missing.uncovered,
      message: forbidden(resource, name, missing.message),
    };
  return allowed("covered");
}
