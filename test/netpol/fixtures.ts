/**
 * The Kubernetes network-policy end-to-end model, rebuilt as plain objects: namespaces x, y, z
 * (labelled ns=<name>), pods a, b, c (labelled pod=<name>), each serving ports 80 and 81 over
 * TCP, UDP and SCTP with container ports named serve-<port>-<protocol>. Plus helpers that turn
 * objects into truth tables both ways (per pair, and through the matrix) and a small language for
 * expected tables.
 */
import type { KubeObject, SourcedObject } from "../../src/core/k8s/index.js";
import {
  buildCluster,
  computeReachability,
  evaluate,
  parseModel,
  type Cluster,
  type Protocol,
} from "../../src/core/netpol/index.js";

export const NAMESPACES = ["x", "y", "z"] as const;
export const POD_NAMES = ["a", "b", "c"] as const;
export const ALL_PODS = NAMESPACES.flatMap((ns) => POD_NAMES.map((p) => `${ns}/${p}`));

/** 10.<ns index + 1>.0.<pod index + 1>: x/a is 10.1.0.1, z/c is 10.3.0.3. */
export function podIp(pod: string): string {
  const [ns, name] = pod.split("/") as [string, string];
  return `10.${NAMESPACES.indexOf(ns as "x") + 1}.0.${POD_NAMES.indexOf(name as "a") + 1}`;
}

export function namespaceObject(name: string, labels: Record<string, string> = { ns: name }): KubeObject {
  return { apiVersion: "v1", kind: "Namespace", metadata: { name, labels } };
}

export function podObject(pod: string, labels?: Record<string, string>, ip: string = podIp(pod)): KubeObject {
  const [namespace, name] = pod.split("/") as [string, string];
  const containers = [80, 81].flatMap((port) =>
    (["TCP", "UDP", "SCTP"] as const).map((protocol) => ({
      name: `cont-${port}-${protocol.toLowerCase()}`,
      ports: [{ containerPort: port, protocol, name: `serve-${port}-${protocol.toLowerCase()}` }],
    })),
  );
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace, labels: labels ?? { pod: name } },
    spec: { containers },
    status: { podIP: ip },
  };
}

/** Namespaces x, y, z and the given pods (all nine by default). */
export function xyz(pods: readonly string[] = ALL_PODS): KubeObject[] {
  return [...NAMESPACES.map((n) => namespaceObject(n)), ...pods.map((p) => podObject(p))];
}

export function netpol(namespace: string, name: string, spec: Record<string, unknown>): KubeObject {
  return { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name, namespace }, spec };
}

export function sourced(objects: readonly KubeObject[], file = "test.yaml"): SourcedObject[] {
  return objects.map((object, i) => ({ object, source: { file, document: i + 1 } }));
}

export function clusterOf(objects: readonly KubeObject[]): Cluster {
  return buildCluster(parseModel(sourced(objects)));
}

export type Table = Record<string, Record<string, boolean>>;

/** The truth table from per-pair evaluation. */
export function evaluateTable(c: Cluster, port: number, protocol: Protocol): Table {
  const t: Table = {};
  for (const from of c.pods)
    for (const to of c.pods)
      (t[`${from.namespace}/${from.name}`] ??= {})[`${to.namespace}/${to.name}`] = evaluate(c, {
        from: { kind: "pod", pod: from },
        to: { kind: "pod", pod: to },
        port,
        protocol,
      }).allowed;
  return t;
}

/** The truth table from the class-based matrix. */
export function matrixTable(c: Cluster, port: number, protocol: Protocol): Table {
  const r = computeReachability(c, port, protocol);
  const t: Table = {};
  r.pods.forEach((from, i) =>
    r.pods.forEach(
      (to, j) =>
        ((t[`${from.namespace}/${from.name}`] ??= {})[`${to.namespace}/${to.name}`] = r.allowed(i, j)),
    ),
  );
  return t;
}

/** "*" any pod, "x/*" any pod in x, "*\/a" pod a in any namespace, "x/a" one pod. */
function matches(pattern: string, pod: string): boolean {
  if (pattern === "*") return true;
  const [pns, pname] = pattern.split("/") as [string, string];
  const [ns, name] = pod.split("/") as [string, string];
  return (pns === "*" || pns === ns) && (pname === "*" || pname === name);
}

/** An expected step: connections from `from` to `to` (patterns) are set to `allowed`, in order. */
export type Step = readonly [from: string, to: string, allowed: boolean];

/** Start from all-allowed and apply steps in order, as upstream's Reachability does. */
export function expectedTable(pods: readonly string[], steps: readonly Step[]): Table {
  const t: Table = {};
  for (const from of pods) for (const to of pods) (t[from] ??= {})[to] = true;
  for (const [f, to, allowed] of steps)
    for (const a of pods)
      for (const b of pods)
        if (matches(f, a) && matches(to, b)) (t[a] as Record<string, boolean>)[b] = allowed;
  return t;
}

/** Loopback is not policy (a pod can always reach itself); upstream ignores it, so do we here. */
export function withoutLoopback(t: Table): Table {
  const out: Table = {};
  for (const [from, row] of Object.entries(t))
    for (const [to, v] of Object.entries(row)) if (from !== to) (out[from] ??= {})[to] = v;
  return out;
}
