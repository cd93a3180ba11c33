import { describe, expect, it } from "vitest";
import { RbacIndex, reviewStatus } from "./index.js";
import {
  clusterRole,
  clusterRoleBinding,
  resourceRequest,
  rule,
  userSubject,
  who,
} from "../../../test/rbac/builders.js";

const idx = RbacIndex.from([
  clusterRole("r", [rule(["get"], [""], ["pods"])]),
  clusterRoleBinding("b", "r", [userSubject("alice")]),
  clusterRoleBinding("gone", "missing", [userSubject("bob")]),
]);

describe("SubjectAccessReview status, as kube-apiserver with --authorization-mode=RBAC fills it", () => {
  it("an RBAC allow carries RBAC's reason", () => {
    expect(reviewStatus(idx, resourceRequest(who("alice"), "get", "pods", { namespace: "x" }))).toEqual({
      allowed: true,
      reason: 'RBAC: allowed by ClusterRoleBinding "b" of ClusterRole "r" to User "alice"',
    });
  });

  it("no opinion is not allowed and has no reason", () => {
    expect(reviewStatus(idx, resourceRequest(who("alice"), "delete", "pods"))).toEqual({ allowed: false });
  });

  it("no opinion with resolution errors carries them, prefixed with the authorizer's name", () => {
    expect(reviewStatus(idx, resourceRequest(who("bob"), "get", "pods"))).toEqual({
      allowed: false,
      reason: 'rbac: RBAC: clusterrole.rbac.authorization.k8s.io "missing" not found',
    });
  });

  it("system:masters is allowed by the privileged-group authorizer with no reason", () => {
    expect(reviewStatus(idx, resourceRequest(who("root", "system:masters"), "delete", "nodes"))).toEqual({
      allowed: true,
    });
  });
});
