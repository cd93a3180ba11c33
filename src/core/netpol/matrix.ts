/**
 * The reachability matrix (pods × pods) for one port and protocol, without evaluating every pair.
 *
 * Pods that no policy can tell apart as a *subject* (the same admin policies, NetworkPolicies and
 * baseline policies select them, and for ingress the same container port names answer the
 * probed port) form one class. For each class and direction we compute, once, the set of peers
 * it accepts as a bit set over all pods, by running the tiers of evaluate.ts on sets instead of
 * single peers: a rule's peers are the union of its atoms (atoms.ts), intersected with the ports
 * it covers. Then from i to j is allowed iff egress(class(i)) has j and ingress(class(j)) has i.
 * The result is exactly evaluate() for every pair; a property test holds it to that.
 */
import { peerSets, type PeerSets } from "./atoms.js";
import { and, andNotInto, emptyLike, hasBit, orInto, type Bits } from "./bitset.js";
import type { Cluster } from "./cluster.js";
import { adminSubjectMatches, netpolSelects } from "./peers.js";
import { portMatches } from "./ports.js";
import type {
  AdminPolicy,
  AdminRule,
  Direction,
  NetpolRule,
  NetworkPolicy,
  Pod,
  Ports,
  Protocol,
} from "./types.js";

export interface Reachability {
  readonly pods: readonly Pod[];
  readonly port: number;
  readonly protocol: Protocol;
  /** Whether pods[from] can open a connection to pods[to]. */
  allowed(from: number, to: number): boolean;
  readonly stats: { readonly egressClasses: number; readonly ingressClasses: number; readonly atoms: number };
}

interface SubjectClass {
  readonly rep: Pod;
  readonly admin: readonly AdminPolicy[];
  readonly isolating: readonly NetworkPolicy[];
  readonly baseline: readonly AdminPolicy[];
}

export function computeReachability(
  c: Cluster,
  port: number,
  protocol: Protocol,
  sets: PeerSets = peerSets(c),
): Reachability {
  const egress = directionRows(c, sets, "egress", port, protocol);
  const ingress = directionRows(c, sets, "ingress", port, protocol);
  return {
    pods: c.pods,
    port,
    protocol,
    allowed(i, j) {
      if (i === j) return true; // a pod can always reach itself
      const e = egress.rows[egress.classOf[i] ?? 0];
      const g = ingress.rows[ingress.classOf[j] ?? 0];
      return e !== undefined && g !== undefined && hasBit(e, j) && hasBit(g, i);
    },
    stats: {
      egressClasses: egress.rows.length,
      ingressClasses: ingress.rows.length,
      atoms: sets.atomCount(),
    },
  };
}

/** Class of every pod as subject of `direction`, and per class the peers it accepts. */
function directionRows(c: Cluster, sets: PeerSets, direction: Direction, port: number, protocol: Protocol) {
  const classIds = new Map<string, number>();
  const classes: SubjectClass[] = [];
  const classOf = new Int32Array(c.pods.length);
  const ids = new Map<object, number>();
  const id = (o: object): number => {
    let v = ids.get(o);
    if (v === undefined) ids.set(o, (v = ids.size));
    return v;
  };
  c.pods.forEach((pod, i) => {
    const admin = c.adminTier.filter(
      (p) => p[direction].length > 0 && adminSubjectMatches(c, p.subject, pod),
    );
    const isolating = c
      .policiesIn(pod.namespace)
      .filter((np) => np.policyTypes[direction] && netpolSelects(np, pod));
    const baseline = c.baselineTier.filter(
      (p) => p[direction].length > 0 && adminSubjectMatches(c, p.subject, pod),
    );
    // For ingress the pod is the destination, so its own port names decide named-port rules.
    const names =
      direction === "ingress"
        ? pod.ports.filter((p) => p.port === port && p.protocol === protocol).map((p) => p.name ?? "")
        : [];
    const key = [
      admin.map(id).join(","),
      isolating.map(id).join(","),
      baseline.map(id).join(","),
      names.sort().join(","),
    ].join("|");
    let k = classIds.get(key);
    if (k === undefined) {
      k = classes.length;
      classIds.set(key, k);
      classes.push({ rep: pod, admin, isolating, baseline });
    }
    classOf[i] = k;
  });
  const rows = classes.map((cls) => acceptedPeers(sets, cls, direction, port, protocol));
  return { classOf, rows };
}

/** The tiers of evaluateDirection, run on the set of all peers at once. */
function acceptedPeers(
  sets: PeerSets,
  cls: SubjectClass,
  direction: Direction,
  port: number,
  protocol: Protocol,
): Bits {
  const everyone = sets.all;
  const allowed = emptyLike(everyone);
  const undecided = Uint32Array.from(everyone);
  const passed = emptyLike(everyone);
  for (const policy of cls.admin) {
    for (const rule of policy[direction]) {
      const m = and(adminRuleBits(sets, rule, cls.rep, direction, port, protocol), undecided);
      if (rule.action === "Allow") orInto(allowed, m);
      else if (rule.action === "Pass") orInto(passed, m);
      andNotInto(undecided, m);
    }
  }
  orInto(undecided, passed); // passed traffic continues to NetworkPolicy, then the baseline
  if (cls.isolating.length > 0) {
    const npAllow = emptyLike(everyone);
    for (const np of cls.isolating)
      for (const rule of np[direction])
        orInto(npAllow, netpolRuleBits(sets, np, rule, cls.rep, direction, port, protocol));
    orInto(allowed, and(undecided, npAllow));
    return allowed;
  }
  for (const policy of cls.baseline) {
    for (const rule of policy[direction]) {
      const m = and(adminRuleBits(sets, rule, cls.rep, direction, port, protocol), undecided);
      if (rule.action !== "Deny") orInto(allowed, m); // Allow, or Pass on to the default (allow)
      andNotInto(undecided, m);
    }
  }
  orInto(allowed, undecided); // nothing decided: Kubernetes' default is to allow
  return allowed;
}

/**
 * Peers (as bits) for which a rule's ports cover the traffic. Egress: the peer is the destination,
 * so named ports resolve per peer. Ingress: the subject is the destination, so they resolve on it.
 */
function portBits(
  sets: PeerSets,
  ports: Ports,
  subject: Pod,
  direction: Direction,
  port: number,
  protocol: Protocol,
): Bits | "all" {
  if (ports === undefined) return "all";
  const out = emptyLike(sets.all);
  for (const m of ports) {
    if (m.kind === "named" && direction === "egress") orInto(out, sets.namedPort(m, port, protocol));
    else if (portMatches(m, { port, protocol, destination: subject })) return "all";
  }
  return out;
}

function withPorts(peers: Bits, ports: Bits | "all"): Bits {
  return ports === "all" ? peers : and(peers, ports);
}

function adminRuleBits(
  sets: PeerSets,
  rule: AdminRule,
  subject: Pod,
  direction: Direction,
  port: number,
  protocol: Protocol,
): Bits {
  const peers = emptyLike(sets.all);
  for (const p of rule.peers) orInto(peers, sets.adminPeer(p));
  return withPorts(peers, portBits(sets, rule.ports, subject, direction, port, protocol));
}

function netpolRuleBits(
  sets: PeerSets,
  np: NetworkPolicy,
  rule: NetpolRule,
  subject: Pod,
  direction: Direction,
  port: number,
  protocol: Protocol,
): Bits {
  let peers: Bits;
  if (rule.peers === undefined) peers = sets.all;
  else {
    peers = emptyLike(sets.all);
    for (const p of rule.peers) orInto(peers, sets.netpolPeer(np, p));
  }
  return withPorts(peers, portBits(sets, rule.ports, subject, direction, port, protocol));
}
