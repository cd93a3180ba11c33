import { describe, expect, it } from "vitest";
import { RbacIndex, whoCan } from "./index.js";
import {
  clusterRole,
  clusterRoleBinding,
  groupSubject,
  role,
  roleBinding,
  rule,
  saSubject,
  urlRule,
  userSubject,
} from "../../../test/rbac/builders.js";

const objects = [
  clusterRole("pod-reader", [rule(["get", "list"], [""], ["pods"])]),
  clusterRole("health", [urlRule(["get"], ["/healthz"])]),
  clusterRoleBinding("readers", "pod-reader", [groupSubject("ops")]),
  clusterRoleBinding("probes", "health", [userSubject("monitor")]),
  clusterRoleBinding("dangling", "missing", [userSubject("eve")]),
  role("web", "reader", [rule(["get"], [""], ["pods"], ["frontend"])]),
  roleBinding("web", "one-pod", { kind: "Role", name: "reader" }, [saSubject("deployer")]),
  roleBinding("db", "db-readers", { kind: "ClusterRole", name: "pod-reader" }, [userSubject("dba")]),
];
const idx = RbacIndex.from(objects);
const getPods = (namespace: string, name = "") =>
  ({
    kind: "resource",
    verb: "get",
    namespace,
    apiGroup: "",
    apiVersion: "v1",
    resource: "pods",
    subresource: "",
    name,
  }) as const;

describe("who can, as kube-apiserver's subject locator answers", () => {
  it("lists system:masters, then ClusterRoleBinding subjects, then the namespace's RoleBinding subjects", () => {
    const r = whoCan(idx, getPods("web", "frontend"));
    expect(r.subjects.map((s) => `${s.kind}/${s.name}`)).toEqual([
      "Group/system:masters",
      "Group/ops",
      "ServiceAccount/deployer",
    ]);
    expect(r.clusterRoleBindings.map((b) => b.metadata.name)).toEqual(["readers"]);
    expect(r.roleBindings.map((b) => b.metadata.name)).toEqual(["one-pod"]);
  });

  it("reports bindings whose role is missing as errors", () => {
    expect(whoCan(idx, getPods("web")).errors).toEqual([
      'clusterrole.rbac.authorization.k8s.io "missing" not found',
    ]);
  });

  it("a rule restricted to names does not count for other names", () => {
    expect(whoCan(idx, getPods("web", "backend")).roleBindings).toEqual([]);
  });

  it("a cluster-scoped action considers only ClusterRoleBindings", () => {
    expect(whoCan(idx, getPods("")).roleBindings).toEqual([]);
  });

  it("with all namespaces, RoleBindings of every namespace are checked in their own namespace", () => {
    expect(
      whoCan(idx, getPods("", "frontend"), { allNamespaces: true }).roleBindings.map((b) => b.metadata.name),
    ).toEqual(["one-pod", "db-readers"]);
  });

  it("answers non-resource URLs from ClusterRoleBindings", () => {
    const r = whoCan(idx, { kind: "nonResource", verb: "get", path: "/healthz" });
    expect(r.clusterRoleBindings.map((b) => b.metadata.name)).toEqual(["probes"]);
  });
});
