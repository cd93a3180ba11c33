/**
 * Tenant isolation: given two groups of pods (a tenant's, and everyone else's), every pair that can
 * connect across the boundary, in either direction, on any port, with the explanation (the
 * "path") of why. "Any port" is exact (portspace.ts): one probe per port class stands for every
 * port of the class, and the answer lists the ports it stands for.
 */
import { peerSets } from "./atoms.js";
import type { Cluster } from "./cluster.js";
import { evaluate, type Verdict } from "./evaluate.js";
import { explainVerdict } from "./explain.js";
import { computeReachability } from "./matrix.js";
import { mergeRanges, portClasses, type PortRange } from "./portspace.js";
import { podKey, type Pod, type Protocol } from "./types.js";

export interface ReachablePath {
  readonly from: string;
  readonly to: string;
  readonly protocol: Protocol;
  /** Every port on which this connection is allowed for the same reasons. */
  readonly ports: readonly PortRange[];
  readonly verdict: Verdict;
  readonly explanation: string;
}

export interface IsolationReport {
  readonly paths: readonly ReachablePath[];
  /** True when more paths existed than `maxPaths`; the list is then a prefix. */
  readonly truncated: boolean;
  /** How many port classes were probed to cover every port of every protocol. */
  readonly portClasses: number;
}

export interface IsolationOptions {
  readonly maxPaths?: number;
  readonly protocols?: readonly Protocol[];
}

/** Every connection from a pod of one group to a pod of the other (both ways) that is allowed. */
export function reachablePaths(
  c: Cluster,
  inA: (pod: Pod) => boolean,
  inB: (pod: Pod) => boolean,
  options: IsolationOptions = {},
): IsolationReport {
  const max = options.maxPaths ?? Number.POSITIVE_INFINITY;
  const a = c.pods.flatMap((p, i) => (inA(p) ? [i] : []));
  const b = c.pods.flatMap((p, i) => (inB(p) ? [i] : []));
  const pairs: [number, number][] = [];
  for (const i of a) for (const j of b) if (i !== j) pairs.push([i, j], [j, i]);
  const unique = [...new Map(pairs.map((p) => [`${p[0]}:${p[1]}`, p])).values()];

  const sets = peerSets(c);
  const classes = portClasses(c, options.protocols);
  // Key: from, to, protocol, explanation → merged ports.
  const found = new Map<
    string,
    { from: Pod; to: Pod; protocol: Protocol; ports: PortRange[]; verdict: Verdict; explanation: string }
  >();
  let truncated = false;
  for (const pc of classes) {
    const r = computeReachability(c, pc.port, pc.protocol, sets);
    for (const [i, j] of unique) {
      if (!r.allowed(i, j)) continue;
      const from = c.pods[i] as Pod;
      const to = c.pods[j] as Pod;
      const verdict = evaluate(c, {
        from: { kind: "pod", pod: from },
        to: { kind: "pod", pod: to },
        port: pc.port,
        protocol: pc.protocol,
      });
      const explanation = explainVerdict(verdict);
      const key = `${i}|${j}|${pc.protocol}|${explanation}`;
      const prev = found.get(key);
      if (prev !== undefined) prev.ports.push(...pc.ranges);
      else if (found.size >= max) truncated = true;
      else found.set(key, { from, to, protocol: pc.protocol, ports: [...pc.ranges], verdict, explanation });
    }
  }
  const paths = [...found.values()]
    .map((f) => ({
      from: podKey(f.from),
      to: podKey(f.to),
      protocol: f.protocol,
      ports: mergeRanges(f.ports),
      verdict: f.verdict,
      explanation: f.explanation,
    }))
    .sort(
      (x, y) =>
        x.from.localeCompare(y.from) ||
        x.to.localeCompare(y.to) ||
        x.protocol.localeCompare(y.protocol) ||
        (x.ports[0]?.from ?? 0) - (y.ports[0]?.from ?? 0),
    );
  return { paths, truncated, portClasses: classes.length };
}
