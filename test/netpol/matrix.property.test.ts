/**
 * The class-based matrix must equal per-pair evaluation on every input. fast-check generates
 * small random clusters (namespaces, pods with labels, addresses and named ports, NetworkPolicies,
 * admin policies of every kind) and compares both for several ports and protocols.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/core/k8s/index.js";
import { clusterOf, evaluateTable, matrixTable, netpol } from "./fixtures.js";

const KEYS = ["app", "tier", "team"] as const;
const VALUES = ["a", "b", "c"] as const;
const PORT_NAMES = ["web", "metrics", "dns"] as const;
const PROTOCOLS = ["TCP", "UDP", "SCTP"] as const;
const PORTS = [53, 80, 81, 8080] as const;

const labels = fc.dictionary(fc.constantFrom(...KEYS), fc.constantFrom(...VALUES), { maxKeys: 2 });
const selector = fc.oneof(
  fc.constant({}),
  labels.map((matchLabels) => ({ matchLabels })),
  fc
    .record({
      key: fc.constantFrom(...KEYS),
      operator: fc.constantFrom("In", "NotIn", "Exists", "DoesNotExist"),
      values: fc.subarray([...VALUES], { minLength: 1 }),
    })
    .map((e) => ({
      matchExpressions: [
        e.operator === "Exists" || e.operator === "DoesNotExist" ? { key: e.key, operator: e.operator } : e,
      ],
    })),
);
const cidr = fc.constantFrom("10.0.0.0/8", "10.1.0.0/16", "10.1.0.2/32", "0.0.0.0/0", "192.168.0.0/16");
const npPort = fc.oneof(
  fc.record({ protocol: fc.constantFrom(...PROTOCOLS) }),
  fc.record({ protocol: fc.constantFrom(...PROTOCOLS), port: fc.constantFrom(...PORTS) }),
  fc.record({
    protocol: fc.constantFrom(...PROTOCOLS),
    port: fc.constant(80),
    endPort: fc.constantFrom(81, 9000),
  }),
  fc.record({ protocol: fc.constantFrom(...PROTOCOLS), port: fc.constantFrom(...PORT_NAMES) }),
);
const npPeer = fc.oneof(
  selector.map((podSelector) => ({ podSelector })),
  selector.map((namespaceSelector) => ({ namespaceSelector })),
  fc.record({ podSelector: selector, namespaceSelector: selector }),
  fc.record({ cidr, except: fc.constantFrom([], ["10.1.0.2/32"]) }).map((b) => ({
    ipBlock: b.cidr === "10.1.0.2/32" || b.cidr === "192.168.0.0/16" ? { cidr: b.cidr } : b,
  })),
);
const npRule = (field: "from" | "to") =>
  fc
    .record({
      peers: fc.option(fc.array(npPeer, { minLength: 1, maxLength: 2 })),
      ports: fc.option(fc.array(npPort, { minLength: 1, maxLength: 2 })),
    })
    .map((r) => ({
      ...(r.peers ? { [field]: r.peers } : {}),
      ...(r.ports ? { ports: r.ports } : {}),
    }));
const netpolSpec = fc.record({
  podSelector: selector,
  types: fc.constantFrom(undefined, ["Ingress"], ["Egress"], ["Ingress", "Egress"]),
  ingress: fc.array(npRule("from"), { maxLength: 2 }),
  egress: fc.array(npRule("to"), { maxLength: 2 }),
});

const adminPeer = (egress: boolean) =>
  fc.oneof(
    selector.map((s) => ({ namespaces: s })),
    fc.record({ namespaceSelector: selector, podSelector: selector }).map((pods) => ({ pods })),
    ...(egress
      ? [
          fc
            .array(cidr, { minLength: 1, maxLength: 2 })
            .map((networks) => ({ networks: [...new Set(networks)] })),
        ]
      : []),
  );
const anpPort = fc.oneof(
  fc
    .record({ protocol: fc.constantFrom(...PROTOCOLS), port: fc.constantFrom(...PORTS) })
    .map((portNumber) => ({ portNumber })),
  fc.constantFrom(...PORT_NAMES).map((namedPort) => ({ namedPort })),
  fc
    .record({
      protocol: fc.constantFrom(...PROTOCOLS),
      start: fc.constant(50),
      end: fc.constantFrom(81, 100),
    })
    .map((portRange) => ({ portRange })),
);
const adminRule = (egress: boolean, actions: readonly string[]) =>
  fc.record({
    action: fc.constantFrom(...actions),
    peers: fc.array(adminPeer(egress), { minLength: 1, maxLength: 2 }),
    ports: fc.option(fc.array(anpPort, { minLength: 1, maxLength: 2 })),
  });
const adminPolicy = fc.record({
  kind: fc.constantFrom("AdminNetworkPolicy", "ClusterNetworkPolicy-Admin", "ClusterNetworkPolicy-Baseline"),
  priority: fc.integer({ min: 0, max: 5 }),
  subject: fc.oneof(
    selector.map((s) => ({ namespaces: s })),
    fc.record({ namespaceSelector: selector, podSelector: selector }).map((pods) => ({ pods })),
  ),
  ingress: fc.array(adminRule(false, ["Allow", "Deny", "Pass"]), { maxLength: 2 }),
  egress: fc.array(adminRule(true, ["Allow", "Deny", "Pass"]), { maxLength: 2 }),
});

const podArb = fc.record({
  ns: fc.integer({ min: 0, max: 2 }),
  labels,
  ip: fc.constantFrom("10.1.0.1", "10.1.0.2", "10.2.0.1", "192.168.1.1", undefined),
  ports: fc.array(
    fc.record({
      port: fc.constantFrom(...PORTS),
      protocol: fc.constantFrom(...PROTOCOLS),
      name: fc.constantFrom(...PORT_NAMES),
    }),
    { maxLength: 3 },
  ),
  hostNetwork: fc.boolean(),
});

const clusterArb = fc.record({
  nsLabels: fc.array(labels, { minLength: 3, maxLength: 3 }),
  pods: fc.array(podArb, { minLength: 1, maxLength: 7 }),
  policies: fc.array(fc.record({ ns: fc.integer({ min: 0, max: 2 }), spec: netpolSpec }), { maxLength: 4 }),
  admin: fc.array(adminPolicy, { maxLength: 3 }),
  banp: fc.option(
    fc.record({
      subject: selector,
      ingress: fc.array(adminRule(false, ["Allow", "Deny"]), { maxLength: 2 }),
      egress: fc.array(adminRule(true, ["Allow", "Deny"]), { maxLength: 2 }),
    }),
  ),
});

type Arb = typeof clusterArb extends fc.Arbitrary<infer T> ? T : never;

function toObjects(g: Arb): KubeObject[] {
  const objs: KubeObject[] = g.nsLabels.map((l, i) => ({
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: `ns${i}`, labels: l },
  }));
  const usedIps = new Set<string>();
  g.pods.forEach((p, i) => {
    // Two pods with one address would make "the pod at an address" ambiguous; real clusters never do that.
    const ip = p.ip !== undefined && !usedIps.has(p.ip) ? p.ip : undefined;
    if (ip) usedIps.add(ip);
    const seen = new Set<string>();
    const ports = p.ports
      .filter((q) => !seen.has(q.name) && (seen.add(q.name), true))
      .map((q) => ({ containerPort: q.port, protocol: q.protocol, name: q.name }));
    objs.push({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: `p${i}`, namespace: `ns${p.ns}`, labels: p.labels },
      spec: { hostNetwork: p.hostNetwork, containers: [{ name: "c", ports }] },
      status: ip ? { podIP: ip } : {},
    });
  });
  g.policies.forEach((p, i) =>
    objs.push(
      netpol(`ns${p.ns}`, `np${i}`, {
        podSelector: p.spec.podSelector,
        ingress: p.spec.ingress,
        egress: p.spec.egress,
        ...(p.spec.types ? { policyTypes: p.spec.types } : {}),
      }),
    ),
  );
  g.admin.forEach((a, i) => {
    const isCnp = a.kind !== "AdminNetworkPolicy";
    const rule = (dir: "from" | "to") => (r: (typeof a.ingress)[number]) => ({
      action: isCnp && r.action === "Allow" ? "Accept" : r.action,
      [dir]: r.peers,
      ...(r.ports ? (isCnp ? { protocols: r.ports.map(cnpProtocol) } : { ports: r.ports }) : {}),
    });
    objs.push({
      apiVersion: isCnp ? "policy.networking.k8s.io/v1alpha2" : "policy.networking.k8s.io/v1alpha1",
      kind: isCnp ? "ClusterNetworkPolicy" : "AdminNetworkPolicy",
      metadata: { name: `admin${i}` },
      spec: {
        priority: a.priority,
        ...(isCnp ? { tier: a.kind.endsWith("Admin") ? "Admin" : "Baseline" } : {}),
        subject: a.subject,
        ingress: a.ingress.map(rule("from")),
        egress: a.egress.map(rule("to")),
      },
    });
  });
  if (g.banp) {
    const rule =
      (dir: "from" | "to") => (r: { action: string; peers: unknown[]; ports: unknown[] | null }) => ({
        action: r.action,
        [dir]: r.peers,
        ...(r.ports ? { ports: r.ports } : {}),
      });
    objs.push({
      apiVersion: "policy.networking.k8s.io/v1alpha1",
      kind: "BaselineAdminNetworkPolicy",
      metadata: { name: "default" },
      spec: {
        subject: { namespaces: g.banp.subject },
        ingress: g.banp.ingress.map(rule("from")),
        egress: g.banp.egress.map(rule("to")),
      },
    });
  }
  return objs;
}

/** ANP port shapes → CNP protocol shapes, so both kinds see the same variety. */
function cnpProtocol(p: Record<string, unknown>): Record<string, unknown> {
  if ("namedPort" in p) return { destinationNamedPort: p["namedPort"] };
  if ("portNumber" in p) {
    const n = p["portNumber"] as { protocol: string; port: number };
    return { [n.protocol.toLowerCase()]: { destinationPort: { number: n.port } } };
  }
  const r = p["portRange"] as { protocol: string; start: number; end: number };
  return { [r.protocol.toLowerCase()]: { destinationPort: { range: { start: r.start, end: r.end } } } };
}

describe("the matrix by equivalence classes", () => {
  it("equals per-pair evaluation on random clusters, ports and protocols", () => {
    fc.assert(
      fc.property(
        clusterArb,
        fc.constantFrom(...PORTS),
        fc.constantFrom(...PROTOCOLS),
        (g, port, protocol) => {
          const c = clusterOf(toObjects(g));
          expect(matrixTable(c, port, protocol)).toEqual(evaluateTable(c, port, protocol));
        },
      ),
      { numRuns: 400 },
    );
  });
});
