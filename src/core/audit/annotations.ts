/**
 * Audit event annotation keys. The authorization and truncation keys are kube-apiserver's own;
 * the gatehouse.io keys are Gatehouse's and documented in docs/audit.md.
 */
export const ANNOTATION = Object.freeze({
  /** "allow" or "forbid", as kube-apiserver's authorization filter records it. */
  decision: "authorization.k8s.io/decision",
  /** The authorizer's reason for the decision. */
  reason: "authorization.k8s.io/reason",
  /** Set to "true" when request/response objects were dropped to fit the size limit. */
  truncated: "audit.k8s.io/truncated",
  /** The cluster the request went to. */
  cluster: "gatehouse.io/cluster",
  /** read, write, delete or privileged (see impact.ts). */
  impact: "gatehouse.io/impact",
  /** For Gatehouse's own events: the closed event kind (see gatehouse-events.ts). */
  eventKind: "gatehouse.io/event-kind",
});

export type AuthorizationDecision = "allow" | "forbid";
