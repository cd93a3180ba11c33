/**
 * The truth table the CLI prints: rows are sources, columns destinations, as cyclonus shows it.
 * The port may be a number, a container port name (resolved per destination pod; a destination
 * without that port has no cell), or absent, meaning reachable on any port (exact, portspace.ts).
 */
import { peerSets } from "./atoms.js";
import type { Cluster } from "./cluster.js";
import { computeReachability, type Reachability } from "./matrix.js";
import { portClasses } from "./portspace.js";
import { resolveNamedPort } from "./ports.js";
import { podKey, PROTOCOLS, type Protocol } from "./types.js";

export interface MatrixView {
  /** "TCP/80", "TCP/serve-80-tcp", "any port (TCP, UDP, SCTP)" */
  readonly title: string;
  readonly pods: readonly string[];
  /** allowed[from][to]; null when the destination has no such named port. */
  readonly allowed: readonly (readonly (boolean | null)[])[];
  readonly stats: {
    readonly egressClasses: number;
    readonly ingressClasses: number;
    readonly atoms: number;
    readonly probes: number;
  };
}

export interface MatrixViewOptions {
  readonly port?: number | string;
  readonly protocol?: Protocol;
}

export function matrixView(c: Cluster, opts: MatrixViewOptions): MatrixView {
  const sets = peerSets(c);
  const n = c.pods.length;
  const pods = c.pods.map(podKey);
  const grid = (cell: (i: number, j: number) => boolean | null): (boolean | null)[][] =>
    Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => cell(i, j)));
  const stats = (rs: readonly Reachability[]) => ({
    egressClasses: Math.max(0, ...rs.map((r) => r.stats.egressClasses)),
    ingressClasses: Math.max(0, ...rs.map((r) => r.stats.ingressClasses)),
    atoms: sets.atomCount(),
    probes: rs.length,
  });

  if (typeof opts.port === "number") {
    const protocol = opts.protocol ?? "TCP";
    const r = computeReachability(c, opts.port, protocol, sets);
    return {
      title: `${protocol}/${opts.port}`,
      pods,
      allowed: grid((i, j) => r.allowed(i, j)),
      stats: stats([r]),
    };
  }
  if (typeof opts.port === "string") {
    const name = opts.port;
    const protocol = opts.protocol ?? "TCP";
    const resolved = c.pods.map((p) => resolveNamedPort(p, name, protocol));
    const byPort = new Map<number, Reachability>();
    for (const port of resolved)
      if (port !== undefined && !byPort.has(port))
        byPort.set(port, computeReachability(c, port, protocol, sets));
    return {
      title: `${protocol}/${name}`,
      pods,
      allowed: grid((i, j) => {
        const port = resolved[j];
        return port === undefined ? null : (byPort.get(port)?.allowed(i, j) ?? null);
      }),
      stats: stats([...byPort.values()]),
    };
  }
  const protocols = opts.protocol !== undefined ? [opts.protocol] : PROTOCOLS;
  const rs = portClasses(c, protocols).map((pc) => computeReachability(c, pc.port, pc.protocol, sets));
  return {
    title: `any port (${protocols.join(", ")})`,
    pods,
    allowed: grid((i, j) => rs.some((r) => r.allowed(i, j))),
    stats: stats(rs),
  };
}
