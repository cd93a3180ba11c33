/**
 * "Any port", made exact. Every rule matches a port through a number, a range, a whole protocol or
 * a named port (which resolves to some pod's container port number). So ports 1-65535 of each
 * protocol split into intervals that no rule can tell apart inside; and intervals covered by the
 * same ranges, holding no container port, behave identically. One representative port per such
 * class answers for all of them — including a class no policy mentions at all, when one exists.
 */
import type { Cluster } from "./cluster.js";
import { PROTOCOLS, type PortMatch, type Protocol } from "./types.js";

export interface PortRange {
  readonly from: number;
  readonly to: number;
}

export interface PortClass {
  readonly protocol: Protocol;
  /** The port probed for the whole class (the first port of its first range). */
  readonly port: number;
  /** Every port this class stands for. */
  readonly ranges: readonly PortRange[];
}

function allPortMatches(c: Cluster): PortMatch[] {
  const out: PortMatch[] = [];
  for (const np of c.model.policies)
    for (const r of [...np.ingress, ...np.egress]) out.push(...(r.ports ?? []));
  for (const a of c.model.adminPolicies)
    for (const r of [...a.ingress, ...a.egress]) out.push(...(r.ports ?? []));
  return out;
}

/** The port classes of the cluster, for the given protocols (all three by default). */
export function portClasses(c: Cluster, protocols: readonly Protocol[] = PROTOCOLS): PortClass[] {
  const matches = allPortMatches(c);
  const out: PortClass[] = [];
  for (const protocol of protocols) {
    const ranges = matches.flatMap((m) => (m.kind === "range" && m.protocol === protocol ? [m] : []));
    const containerPorts = new Set(
      c.pods.flatMap((p) => p.ports.filter((q) => q.protocol === protocol).map((q) => q.port)),
    );
    const cuts = new Set<number>([1, 65536]);
    for (const r of ranges) cuts.add(r.from).add(r.to + 1);
    for (const p of containerPorts) cuts.add(p).add(p + 1);
    const sorted = [...cuts].sort((a, b) => a - b);
    const classes = new Map<string, PortRange[]>();
    for (let i = 0; i + 1 < sorted.length; i++) {
      const from = sorted[i] as number;
      const to = (sorted[i + 1] as number) - 1;
      // Which ranges cover it, and (for named ports) which container port number it is.
      const covering = ranges.flatMap((r, k) => (r.from <= from && to <= r.to ? [k] : []));
      const key = `${covering.join(",")}|${containerPorts.has(from) ? from : "-"}`;
      const list = classes.get(key) ?? [];
      list.push({ from, to });
      classes.set(key, list);
    }
    for (const list of classes.values())
      out.push({ protocol, port: (list[0] as PortRange).from, ranges: mergeRanges(list) });
  }
  return out;
}

/** Sort and join touching ranges. */
export function mergeRanges(ranges: readonly PortRange[]): PortRange[] {
  const sorted = [...ranges].sort((a, b) => a.from - b.from);
  const out: PortRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && r.from <= last.to + 1)
      out[out.length - 1] = { from: last.from, to: Math.max(last.to, r.to) };
    else out.push(r);
  }
  return out;
}

export function formatRanges(ranges: readonly PortRange[]): string {
  return ranges.map((r) => (r.from === r.to ? `${r.from}` : `${r.from}-${r.to}`)).join(",");
}
