/**
 * One connection → verdict with explanation. This is the reference semantics; the matrix
 * (matrix.ts) computes the same answers for many pairs at once and is tested against this.
 *
 * A connection is allowed only if the source's egress and the destination's ingress both allow
 * it. Each direction is decided at the pod whose side it is, tier by tier:
 *   1. Admin tier (AdminNetworkPolicy, ClusterNetworkPolicy tier Admin), by priority, rules in
 *      order: the first matching rule decides; Allow/Accept and Deny are final, Pass skips the
 *      rest of the tier.
 *   2. NetworkPolicy: if any policy selects the pod with this policy type, the pod is isolated and
 *      the traffic is allowed exactly when some rule of those policies matches it. Final.
 *   3. Baseline tier (ClusterNetworkPolicy tier Baseline, BaselineAdminNetworkPolicy): first
 *      matching rule decides.
 *   4. Otherwise allowed (Kubernetes' default).
 * The side outside the cluster is not ours to police; a pod can always reach itself.
 */
import type { Cluster } from "./cluster.js";
import { adminPeerMatches, adminSubjectMatches, netpolPeerMatches, netpolSelects } from "./peers.js";
import { portsMatch, type Traffic } from "./ports.js";
import {
  podKey,
  type AdminKind,
  type AdminPolicy,
  type Direction,
  type Endpoint,
  type Pod,
  type Protocol,
} from "./types.js";

export interface Connection {
  readonly from: Endpoint;
  readonly to: Endpoint;
  readonly port: number;
  readonly protocol: Protocol;
}

export interface PolicyRef {
  readonly kind: "NetworkPolicy" | AdminKind;
  readonly name: string;
  readonly namespace?: string;
  /** "ingress[0]" or the admin rule's name */
  readonly rule?: string;
  /** The admin action as written (Allow, Accept, Deny, Pass). */
  readonly action?: string;
}

export type Decider = "self" | "outside" | "admin" | "networkpolicy" | "baseline" | "default";

export interface DirectionVerdict {
  readonly direction: Direction;
  readonly allowed: boolean;
  readonly decidedBy: Decider;
  /** admin/baseline: the deciding rule; networkpolicy: the allowing policies, or if blocked the isolating ones. */
  readonly policies: readonly PolicyRef[];
  /** The Admin-tier Pass rule that handed the decision down, if any. */
  readonly passedBy?: PolicyRef;
}

export interface Verdict {
  readonly allowed: boolean;
  readonly egress: DirectionVerdict;
  readonly ingress: DirectionVerdict;
}

export function evaluate(c: Cluster, conn: Connection): Verdict {
  const { from, to } = conn;
  if (from.kind === "pod" && to.kind === "pod" && podKey(from.pod) === podKey(to.pod)) {
    const self = (direction: Direction): DirectionVerdict => ({
      direction,
      allowed: true,
      decidedBy: "self",
      policies: [],
    });
    return { allowed: true, egress: self("egress"), ingress: self("ingress") };
  }
  const traffic: Traffic = {
    port: conn.port,
    protocol: conn.protocol,
    destination: to.kind === "pod" ? to.pod : undefined,
  };
  const egress = evaluateDirection(c, "egress", from, to, traffic);
  const ingress = evaluateDirection(c, "ingress", to, from, traffic);
  return { allowed: egress.allowed && ingress.allowed, egress, ingress };
}

/** Decide one direction at `subject` (the pod whose policies apply) for traffic with `peer`. */
export function evaluateDirection(
  c: Cluster,
  direction: Direction,
  subject: Endpoint,
  peer: Endpoint,
  t: Traffic,
): DirectionVerdict {
  if (subject.kind !== "pod") return { direction, allowed: true, decidedBy: "outside", policies: [] };
  const pod = subject.pod;
  const admin = firstAdminMatch(c, c.adminTier, direction, pod, peer, t);
  if (admin !== undefined && admin.action !== "Pass") {
    return { direction, allowed: admin.action === "Allow", decidedBy: "admin", policies: [admin.ref] };
  }
  const passedBy = admin?.ref;
  const pass = passedBy !== undefined ? { passedBy } : {};

  const isolating = c
    .policiesIn(pod.namespace)
    .filter((np) => np.policyTypes[direction] && netpolSelects(np, pod));
  if (isolating.length > 0) {
    const allowing: PolicyRef[] = [];
    for (const np of isolating) {
      const i = np[direction].findIndex(
        (rule) =>
          (rule.peers === undefined || rule.peers.some((p) => netpolPeerMatches(c, np, p, peer))) &&
          portsMatch(rule.ports, t),
      );
      if (i >= 0)
        allowing.push({
          kind: "NetworkPolicy",
          namespace: np.namespace,
          name: np.name,
          rule: `${direction}[${i}]`,
        });
    }
    const policies =
      allowing.length > 0
        ? allowing
        : isolating.map((np): PolicyRef => ({
            kind: "NetworkPolicy",
            namespace: np.namespace,
            name: np.name,
          }));
    return { direction, allowed: allowing.length > 0, decidedBy: "networkpolicy", policies, ...pass };
  }

  const base = firstAdminMatch(c, c.baselineTier, direction, pod, peer, t);
  if (base !== undefined && base.action !== "Pass") {
    return {
      direction,
      allowed: base.action === "Allow",
      decidedBy: "baseline",
      policies: [base.ref],
      ...pass,
    };
  }
  return { direction, allowed: true, decidedBy: "default", policies: base ? [base.ref] : [], ...pass };
}

interface AdminMatch {
  readonly action: "Allow" | "Deny" | "Pass";
  readonly ref: PolicyRef;
}

/** The first rule, in precedence order, of the tier's policies selecting the pod that matches. */
function firstAdminMatch(
  c: Cluster,
  tier: readonly AdminPolicy[],
  direction: Direction,
  pod: Pod,
  peer: Endpoint,
  t: Traffic,
): AdminMatch | undefined {
  for (const policy of tier) {
    if (!adminSubjectMatches(c, policy.subject, pod)) continue;
    const rules = policy[direction];
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i];
      if (rule === undefined) continue;
      if (rule.peers.some((p) => adminPeerMatches(c, p, peer)) && portsMatch(rule.ports, t)) {
        const ref: PolicyRef = {
          kind: policy.kind,
          name: policy.name,
          rule: rule.name ?? `${direction}[${i}]`,
          action: rule.actionText,
        };
        return { action: rule.action, ref };
      }
    }
  }
  return undefined;
}
