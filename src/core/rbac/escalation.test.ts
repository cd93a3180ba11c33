import { describe, expect, it } from "vitest";
import {
  RbacIndex,
  canCreateBinding,
  canCreateRole,
  type EscalationContext,
  type RbacObject,
} from "./index.js";
import {
  clusterRole,
  clusterRoleBinding,
  role,
  roleBinding,
  rule,
  urlRule,
  userSubject,
  who,
} from "../../../test/rbac/builders.js";

const alice = who("alice", "system:authenticated");
const rbac = "rbac.authorization.k8s.io";

function ctx(objects: RbacObject[]): EscalationContext {
  const idx = RbacIndex.from(objects);
  return { authorizer: idx, rules: idx, resolveRoleRef: (r, ns) => idx.resolveRoleRef(r, ns) };
}

const podAdmin = clusterRole("pod-admin", [rule(["*"], [""], ["pods"])]);
const secretReader = clusterRole("secret-reader", [rule(["get"], [""], ["secrets"])]);
const wantsSecrets = role("web", "wants-secrets", [rule(["get"], [""], ["secrets"])]);

describe("creating roles without escalating", () => {
  it("allows a member of system:masters anything", () => {
    const c = ctx([]);
    expect(canCreateRole(c, who("root", "system:masters"), wantsSecrets)).toMatchObject({
      allowed: true,
      via: "privilegedGroup",
    });
  });

  it("allows a role whose rules the user already holds in that namespace", () => {
    const c = ctx([
      secretReader,
      roleBinding("web", "r", { kind: "ClusterRole", name: "secret-reader" }, [userSubject("alice")]),
    ]);
    expect(canCreateRole(c, alice, wantsSecrets)).toMatchObject({ allowed: true, via: "covered" });
  });

  it("refuses a role with rules the user does not hold, listing them and kube-apiserver's message", () => {
    const c = ctx([podAdmin, clusterRoleBinding("p", "pod-admin", [userSubject("alice")])]);
    const r = canCreateRole(c, alice, role("web", "big", [rule(["get", "list"], [""], ["secrets", "pods"])]));
    expect(r.allowed).toBe(false);
    expect(r.uncovered).toEqual([rule(["get"], [""], ["secrets"]), rule(["list"], [""], ["secrets"])]);
    if (r.allowed) return;
    expect(r.message).toBe(
      'roles.rbac.authorization.k8s.io "big" is forbidden: user "alice" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n' +
        '{APIGroups:[""], Resources:["secrets"], Verbs:["get" "list"]}',
    );
  });

  it("a ClusterRole must be covered by cluster-wide rules; a RoleBinding's rules do not count", () => {
    const c = ctx([
      secretReader,
      roleBinding("web", "r", { kind: "ClusterRole", name: "secret-reader" }, [userSubject("alice")]),
    ]);
    expect(canCreateRole(c, alice, clusterRole("copy", [rule(["get"], [""], ["secrets"])])).allowed).toBe(
      false,
    );
  });

  it("the escalate verb on roles in the namespace allows any role", () => {
    const esc = clusterRole("escalator", [rule(["escalate"], [rbac], ["roles"])]);
    const c = ctx([
      esc,
      roleBinding("web", "e", { kind: "ClusterRole", name: "escalator" }, [userSubject("alice")]),
    ]);
    expect(canCreateRole(c, alice, wantsSecrets)).toMatchObject({ allowed: true, via: "escalate" });
  });

  it("escalate limited by resourceNames helps an update of that role but not a create (a create names no object)", () => {
    const esc = clusterRole("escalator", [rule(["escalate"], [rbac], ["roles"], ["wants-secrets"])]);
    const c = ctx([esc, clusterRoleBinding("e", "escalator", [userSubject("alice")])]);
    expect(canCreateRole(c, alice, wantsSecrets).allowed).toBe(false);
    expect(canCreateRole(c, alice, wantsSecrets, role("web", "wants-secrets", []))).toMatchObject({
      via: "escalate",
    });
  });

  it("an aggregating ClusterRole needs every permission, even with no rules of its own", () => {
    const c = ctx([podAdmin, clusterRoleBinding("p", "pod-admin", [userSubject("alice")])]);
    const agg = clusterRole("agg", [], { selectors: [{ matchLabels: { x: "y" } }] });
    const r = canCreateRole(c, alice, agg);
    expect(r.allowed).toBe(false);
    if (!r.allowed)
      expect(r.message).toContain("must have cluster-admin privileges to use the aggregationRule");
    const admin = ctx([
      clusterRole("all", [rule(["*"], ["*"], ["*"]), urlRule(["*"], ["*"])]),
      clusterRoleBinding("a", "all", [userSubject("alice")]),
    ]);
    expect(canCreateRole(admin, alice, agg).allowed).toBe(true);
  });

  it("names resolution errors in the refusal when a binding's role is missing", () => {
    const c = ctx([clusterRoleBinding("gone", "missing", [userSubject("alice")])]);
    const r = canCreateRole(c, alice, wantsSecrets);
    if (r.allowed) throw new Error("expected refusal");
    expect(r.message).toMatch(
      /; resolution errors: \[clusterroles\.rbac\.authorization\.k8s\.io "missing" not found\]$/,
    );
  });
});

describe("creating bindings without escalating", () => {
  const binding = roleBinding("web", "give", { kind: "ClusterRole", name: "secret-reader" }, [
    userSubject("bob"),
  ]);

  it("allows binding a role whose rules the user holds in the binding's namespace", () => {
    const c = ctx([
      secretReader,
      roleBinding("web", "r", { kind: "ClusterRole", name: "secret-reader" }, [userSubject("alice")]),
    ]);
    expect(canCreateBinding(c, alice, binding)).toMatchObject({ allowed: true, via: "covered" });
  });

  it("refuses binding a role with rules the user lacks, listing them", () => {
    const c = ctx([secretReader]);
    expect(canCreateBinding(c, alice, binding)).toMatchObject({
      allowed: false,
      uncovered: [rule(["get"], [""], ["secrets"])],
    });
  });

  it("the bind verb on that ClusterRole by name allows binding it", () => {
    const binder = clusterRole("binder", [rule(["bind"], [rbac], ["clusterroles"], ["secret-reader"])]);
    const c = ctx([
      secretReader,
      binder,
      roleBinding("web", "b", { kind: "ClusterRole", name: "binder" }, [userSubject("alice")]),
    ]);
    expect(canCreateBinding(c, alice, binding)).toMatchObject({ allowed: true, via: "bind" });
    const other = roleBinding("web", "x", { kind: "ClusterRole", name: "pod-admin" }, [userSubject("bob")]);
    expect(canCreateBinding(c, alice, other).allowed).toBe(false);
  });

  it("bind is checked in the binding's namespace: a namespaced grant does not allow a ClusterRoleBinding", () => {
    const binder = clusterRole("binder", [rule(["bind"], [rbac], ["clusterroles"])]);
    const c = ctx([
      secretReader,
      binder,
      roleBinding("web", "b", { kind: "ClusterRole", name: "binder" }, [userSubject("alice")]),
    ]);
    expect(
      canCreateBinding(c, alice, clusterRoleBinding("g", "secret-reader", [userSubject("bob")])).allowed,
    ).toBe(false);
  });

  it("binding a missing role is refused unless the user may bind it", () => {
    const c = ctx([]);
    const dangling = clusterRoleBinding("g", "nope", [userSubject("bob")]);
    const r = canCreateBinding(c, alice, dangling);
    if (r.allowed) throw new Error("expected refusal");
    expect(r.message).toBe('clusterroles.rbac.authorization.k8s.io "nope" not found');
    const binder = ctx([
      clusterRole("binder", [rule(["bind"], [rbac], ["clusterroles"])]),
      clusterRoleBinding("b", "binder", [userSubject("alice")]),
    ]);
    expect(canCreateBinding(binder, alice, dangling).allowed).toBe(true);
  });

  it("an update may not change the roleRef", () => {
    const c = ctx([]);
    const old = roleBinding("web", "give", { kind: "ClusterRole", name: "other" }, [userSubject("bob")]);
    expect(canCreateBinding(c, who("root", "system:masters"), binding, old).allowed).toBe(false);
  });

  it("system:masters may bind anything, even a missing role", () => {
    const c = ctx([]);
    expect(canCreateBinding(c, who("root", "system:masters"), binding)).toMatchObject({
      allowed: true,
      via: "privilegedGroup",
    });
  });
});
