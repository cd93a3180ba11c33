import { describe, expect, it } from "vitest";
import { RbacIndex, kubectlAccessList, subjectRulesReview } from "./index.js";
import {
  clusterRole,
  clusterRoleBinding,
  groupSubject,
  role,
  roleBinding,
  rule,
  urlRule,
  userSubject,
  who,
} from "../../../test/rbac/builders.js";

const objects = [
  clusterRole("base", [
    urlRule(["get"], ["/healthz", "/version"]),
    rule(["get", "list"], [""], ["namespaces"]),
  ]),
  clusterRoleBinding("everyone", "base", [groupSubject("system:authenticated")]),
  role("web", "edit", [
    rule(["get"], ["apps"], ["deployments", "deployments/scale"]),
    rule(["update"], ["apps"], ["deployments"], ["api"]),
  ]),
  roleBinding("web", "devs", { kind: "Role", name: "edit" }, [userSubject("alice")]),
  roleBinding("web", "broken", { kind: "ClusterRole", name: "missing" }, [userSubject("alice")]),
];
const alice = who("alice", "system:authenticated");

describe("rules review, as SelfSubjectRulesReview answers with RBAC", () => {
  it("lists cluster-wide rules first, then the namespace's, split by kind, with missing roles as the evaluation error", () => {
    expect(subjectRulesReview(RbacIndex.from(objects), alice, "web")).toEqual({
      resourceRules: [
        { verbs: ["get", "list"], apiGroups: [""], resources: ["namespaces"] },
        { verbs: ["get"], apiGroups: ["apps"], resources: ["deployments", "deployments/scale"] },
        { verbs: ["update"], apiGroups: ["apps"], resources: ["deployments"], resourceNames: ["api"] },
      ],
      nonResourceRules: [{ verbs: ["get"], nonResourceURLs: ["/healthz", "/version"] }],
      incomplete: false,
      evaluationError: 'clusterrole.rbac.authorization.k8s.io "missing" not found',
    });
  });

  it("in another namespace only the cluster-wide rules apply", () => {
    const s = subjectRulesReview(RbacIndex.from(objects), alice, "db");
    expect(s.resourceRules).toHaveLength(1);
    expect(s.evaluationError).toBeUndefined();
  });

  it("gives system:masters nothing RBAC does not grant", () => {
    const s = subjectRulesReview(RbacIndex.from(objects), who("root", "system:masters"), "web");
    expect(s).toEqual({ resourceRules: [], nonResourceRules: [], incomplete: false });
  });

  it("prints rows as kubectl auth can-i --list: broken down, compacted, sorted", () => {
    const rows = kubectlAccessList(subjectRulesReview(RbacIndex.from(objects), alice, "web"));
    // Sorted by the Go PolicyRule String(): "Verbs:[get list]" < "Verbs:[get]" (space < "]"),
    // "APIGroups:[]" < "APIGroups:[apps]", "deployments/scale" < "deployments]" ("/" < "]").
    expect(rows).toEqual([
      { resource: "namespaces", nonResourceURLs: [], resourceNames: [], verbs: ["get", "list"] },
      { resource: "", nonResourceURLs: ["/healthz"], resourceNames: [], verbs: ["get"] },
      { resource: "", nonResourceURLs: ["/version"], resourceNames: [], verbs: ["get"] },
      { resource: "deployments.apps/scale", nonResourceURLs: [], resourceNames: [], verbs: ["get"] },
      { resource: "deployments.apps", nonResourceURLs: [], resourceNames: [], verbs: ["get"] },
      { resource: "deployments.apps", nonResourceURLs: [], resourceNames: ["api"], verbs: ["update"] },
    ]);
  });
});
