/** The authorization.k8s.io/v1 objects the rbac commands print with -o json|yaml. */
import type { UserInfo } from "../../../core/k8s/index.js";
import type {
  Action,
  SubjectAccessReviewStatus,
  SubjectRulesReviewStatus,
} from "../../../core/rbac/index.js";

export function toSubjectAccessReview(action: Action, user: UserInfo, status: SubjectAccessReviewStatus) {
  const spec =
    action.kind === "resource"
      ? {
          resourceAttributes: {
            ...(action.namespace ? { namespace: action.namespace } : {}),
            verb: action.verb,
            ...(action.apiGroup ? { group: action.apiGroup } : {}),
            resource: action.resource,
            ...(action.subresource ? { subresource: action.subresource } : {}),
            ...(action.name ? { name: action.name } : {}),
          },
        }
      : { nonResourceAttributes: { path: action.path, verb: action.verb } };
  return {
    apiVersion: "authorization.k8s.io/v1",
    kind: "SubjectAccessReview",
    spec: { ...spec, user: user.username, groups: [...user.groups] },
    status,
  };
}

export function toSubjectRulesReview(namespace: string, user: UserInfo, status: SubjectRulesReviewStatus) {
  return {
    apiVersion: "authorization.k8s.io/v1",
    kind: "SelfSubjectRulesReview",
    // Not a field of the real object: who the rules are for (a self review is always "me").
    metadata: {
      annotations: { "gatehouse.io/user": user.username, "gatehouse.io/groups": user.groups.join(",") },
    },
    spec: { namespace },
    status,
  };
}
