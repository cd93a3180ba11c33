/**
 * `gatehouse rbac can-grant --as USER -f FILE`: would kube-apiserver accept these Roles, ClusterRoles
 * and bindings from USER (for CI, before a GitOps change is merged)? Objects are checked in file
 * order as `kubectl apply -f` sends them, each against the policy as it stands after the accepted
 * ones before it: RBAC must allow the request itself (create, or patch of an existing object), then
 * the escalation checks must pass. Exit 0 when every object is accepted, 1 otherwise.
 */
import type { Command } from "commander";
import type { UserInfo } from "../../../core/k8s/index.js";
import {
  buildIndex,
  canCreateBinding,
  canCreateRole,
  compactString,
  refOf,
  RBAC_GROUP,
  type GrantCheck,
  type PolicyRule,
  type RbacIndex,
  type RbacObject,
} from "../../../core/rbac/index.js";
import { NegativeAnswer } from "../../errors.js";
import { readObjectPaths, type Output } from "../../io.js";
import { outputOption } from "../../program.js";
import { addAsOptions, userOf, type AsOptions } from "./action-args.js";
import { addSourceOptions, loadPolicy, rbacObjectsFrom, type SourceOptions } from "./source.js";

interface CanGrantOptions extends SourceOptions, AsOptions {
  filename: string[];
  output: "table" | "json";
}

interface Verdict {
  object: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } };
  allowed: boolean;
  uncovered: PolicyRule[];
  reason: string;
}

const RESOURCE: Record<RbacObject["kind"], string> = {
  Role: "roles",
  ClusterRole: "clusterroles",
  RoleBinding: "rolebindings",
  ClusterRoleBinding: "clusterrolebindings",
};

/** The request `kubectl apply` makes for the object must itself be allowed (POST names no object). */
function requestCheck(index: RbacIndex, user: UserInfo, o: RbacObject, exists: boolean): GrantCheck | null {
  if (user.groups.includes("system:masters")) return null;
  const namespace = o.kind === "Role" || o.kind === "RoleBinding" ? o.metadata.namespace : "";
  const verb = exists ? "patch" : "create";
  const d = index.authorize({
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
  const scope = namespace ? `in the namespace "${namespace}"` : "at the cluster scope";
  return {
    allowed: false,
    uncovered: [],
    message: `User "${user.username}" cannot ${verb} resource "${RESOURCE[o.kind]}" in API group "${RBAC_GROUP}" ${scope}`,
  };
}

export function checkGrants(index: RbacIndex, user: UserInfo, objects: readonly RbacObject[]): Verdict[] {
  const ctx = { authorizer: index, rules: index, resolveRoleRef: index.resolveRoleRef.bind(index) };
  return objects.map((o) => {
    const existing = index.get(refOf(o));
    let check = requestCheck(index, user, o, existing !== undefined);
    if (check === null) {
      check =
        o.kind === "Role" || o.kind === "ClusterRole"
          ? canCreateRole(ctx, user, o, existing?.kind === o.kind ? existing : undefined)
          : canCreateBinding(ctx, user, o, existing?.kind === o.kind ? existing : undefined);
    }
    if (check.allowed) index.upsert(o);
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

export function registerCanGrant(rbac: Command, output: Output): void {
  const c = rbac
    .command("can-grant")
    .description(
      "check that a user may create the Roles, ClusterRoles and bindings in FILE without escalating (exit 1 if not)",
    )
    .requiredOption("-f, --filename <path...>", "files or folders with the RBAC objects to create");
  addSourceOptions(addAsOptions(c, true))
    .addOption(outputOption(["table", "json"], "table"))
    .action(async (opts: CanGrantOptions) => {
      const policy = await loadPolicy(opts);
      const user = userOf(opts);
      const wanted = rbacObjectsFrom(readObjectPaths(opts.filename));
      const verdicts = checkGrants(buildIndex(policy.objects, { aggregate: false }), user, wanted);
      if (opts.output === "json") output.out(verdicts.map((v) => `${JSON.stringify(v)}\n`).join(""));
      else output.out(verdicts.map(describe).join(""));
      if (verdicts.some((v) => !v.allowed)) throw new NegativeAnswer();
    });
}

function describe(v: Verdict): string {
  const m = v.object.metadata;
  const what = `${v.object.kind} ${m.namespace !== undefined ? `${m.namespace}/` : ""}${m.name}`;
  if (v.allowed) return `allowed  ${what} (${v.reason})\n`;
  const lines = [`refused  ${what}`, `  ${v.reason.split("\n")[0] ?? ""}`];
  for (const r of v.uncovered) lines.push(`  not held: ${compactString(r)}`);
  return `${lines.join("\n")}\n`;
}
