/**
 * A SubjectAccessReview's status as kube-apiserver fills it when started with
 * --authorization-mode=RBAC. kube-apiserver always puts its system:masters authorizer in front of
 * the configured ones, and joins them with its union authorizer (k8s.io/apiserver union.go):
 *
 * - a member of system:masters is allowed with an empty reason;
 * - an RBAC allow returns RBAC's reason unchanged;
 * - no opinion from anyone is `allowed: false`, and the reason is each authorizer's non-empty reason
 *   prefixed with its name ("rbac: RBAC: ...not found"), or absent.
 *
 * RBAC never denies, so `denied` is never set, and it returns no evaluation error.
 */
import type { RequestAttributes } from "../k8s/attributes.js";
import type { Authorizer } from "./engine.js";
import { PRIVILEGED_GROUP } from "./subjects.js";

/** authorization.k8s.io/v1 SubjectAccessReviewStatus, empty fields omitted as the API omits them. */
export interface SubjectAccessReviewStatus {
  allowed: boolean;
  denied?: boolean;
  reason?: string;
  evaluationError?: string;
}

/** The name kube-apiserver gives the RBAC authorizer in its union (lower-cased mode name). */
export const RBAC_AUTHORIZER_NAME = "rbac";

export function reviewStatus(authorizer: Authorizer, a: RequestAttributes): SubjectAccessReviewStatus {
  if (a.user.groups.includes(PRIVILEGED_GROUP)) return { allowed: true };
  const d = authorizer.authorize(a);
  if (d.decision === "allow")
    return d.reason === "" ? { allowed: true } : { allowed: true, reason: d.reason };
  return d.reason === ""
    ? { allowed: false }
    : { allowed: false, reason: `${RBAC_AUTHORIZER_NAME}: ${d.reason}` };
}
