/**
 * Build an evaluator from a set of objects as a cluster would hold them: a later object with the same
 * kind, namespace and name replaces an earlier one (as `kubectl apply` of the files in order would),
 * and, unless told not to, aggregated ClusterRoles get the rules the aggregation controller would
 * give them (hand-written YAML usually leaves them empty).
 */
import { aggregateClusterRoles } from "./aggregate.js";
import { RbacIndex } from "./authorizer.js";
import type { MutablePolicy } from "./engine.js";
import { objectKey, refOf, type ClusterRole, type RbacObject } from "./types.js";

export interface BuildOptions {
  /** Fill aggregated ClusterRoles first (default true). Off for objects read from a live cluster. */
  aggregate?: boolean;
}

/** The objects a cluster would end up holding: last one per key wins, aggregation applied. */
export function settleObjects(objects: Iterable<RbacObject>, opts: BuildOptions = {}): RbacObject[] {
  const byKey = new Map<string, RbacObject>();
  for (const o of objects) {
    const key = objectKey(refOf(o));
    byKey.delete(key);
    byKey.set(key, o);
  }
  const settled = [...byKey.values()];
  if (opts.aggregate === false) return settled;
  const clusterRoles = settled.filter((o): o is ClusterRole => o.kind === "ClusterRole");
  if (!clusterRoles.some((r) => r.aggregationRule !== undefined)) return settled;
  const filled = new Map(aggregateClusterRoles(clusterRoles).clusterRoles.map((r) => [r.metadata.name, r]));
  return settled.map((o) => (o.kind === "ClusterRole" ? (filled.get(o.metadata.name) ?? o) : o));
}

/** An indexed evaluator over the settled objects. */
export function buildIndex(objects: Iterable<RbacObject>, opts: BuildOptions = {}): RbacIndex {
  return RbacIndex.from(settleObjects(objects, opts));
}

/** Load settled objects into any evaluator (the linear one, for comparison). */
export function loadInto<T extends MutablePolicy>(
  engine: T,
  objects: Iterable<RbacObject>,
  opts: BuildOptions = {},
): T {
  for (const o of settleObjects(objects, opts)) engine.upsert(o);
  return engine;
}
