import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/core/k8s/index.js";
import {
  evaluate,
  portClasses,
  reachablePaths,
  type Cluster,
  type Pod,
  type Protocol,
} from "../../src/core/netpol/index.js";
import { clusterOf, netpol, xyz } from "./fixtures.js";

const tenantX = (p: Pod) => p.namespace === "x";
const others = (p: Pod) => p.namespace !== "x";

describe("tenant isolation paths", () => {
  it("with no policies, every cross-tenant pair is reachable on every port of every protocol", () => {
    const c = clusterOf(xyz(["x/a", "y/a"]));
    const r = reachablePaths(c, tenantX, others);
    expect(r.paths.map((p) => [p.from, p.to, p.protocol, p.ports])).toEqual([
      ["x/a", "y/a", "SCTP", [{ from: 1, to: 65535 }]],
      ["x/a", "y/a", "TCP", [{ from: 1, to: 65535 }]],
      ["x/a", "y/a", "UDP", [{ from: 1, to: 65535 }]],
      ["y/a", "x/a", "SCTP", [{ from: 1, to: 65535 }]],
      ["y/a", "x/a", "TCP", [{ from: 1, to: 65535 }]],
      ["y/a", "x/a", "UDP", [{ from: 1, to: 65535 }]],
    ]);
  });

  it("lists only the ports a policy opens, with the policy that opens them", () => {
    const c = clusterOf([
      ...xyz(["x/a", "y/a"]),
      netpol("x", "deny-all", { podSelector: {}, policyTypes: ["Ingress", "Egress"] }),
      netpol("x", "allow-y", {
        podSelector: {},
        policyTypes: ["Ingress"],
        ingress: [
          {
            from: [{ namespaceSelector: { matchLabels: { ns: "y" } } }],
            ports: [
              { port: 8000, endPort: 8100 },
              { port: "serve-81-udp", protocol: "UDP" },
            ],
          },
        ],
      }),
    ]);
    const r = reachablePaths(c, tenantX, others);
    expect(r.paths.map((p) => [p.from, p.to, p.protocol, p.ports])).toEqual([
      ["y/a", "x/a", "TCP", [{ from: 8000, to: 8100 }]],
      ["y/a", "x/a", "UDP", [{ from: 81, to: 81 }]],
    ]);
    expect(r.paths[0]?.explanation).toContain("ingress allowed by NetworkPolicy x/allow-y rule ingress[0]");
    expect(r.truncated).toBe(false);
  });

  it("an isolated tenant has no paths at all", () => {
    const c = clusterOf([
      ...xyz(["x/a", "x/b", "y/a", "z/a"]),
      netpol("x", "deny-all", {
        podSelector: {},
        policyTypes: ["Ingress", "Egress"],
        ingress: [{ from: [{ podSelector: {} }] }],
        egress: [{ to: [{ podSelector: {} }] }],
      }),
    ]);
    expect(reachablePaths(c, tenantX, others).paths).toEqual([]);
  });

  it("stops at maxPaths and says so", () => {
    const r = reachablePaths(clusterOf(xyz()), tenantX, others, { maxPaths: 4 });
    expect(r.paths).toHaveLength(4);
    expect(r.truncated).toBe(true);
  });

  it("is exact on any port: a sampled port is reachable iff some path lists it", () => {
    const arb = fc.record({
      ports: fc.array(
        fc.oneof(
          fc.record({ port: fc.integer({ min: 1, max: 200 }) }),
          fc.record({
            port: fc.integer({ min: 1, max: 100 }),
            endPort: fc.integer({ min: 100, max: 300 }),
            protocol: fc.constantFrom("TCP", "UDP"),
          }),
          fc.record({
            port: fc.constantFrom("serve-80-tcp", "serve-81-udp"),
            protocol: fc.constantFrom("TCP", "UDP"),
          }),
        ),
        { maxLength: 3 },
      ),
      egressPorts: fc.array(
        fc.record({ port: fc.integer({ min: 50, max: 120 }), protocol: fc.constantFrom("TCP", "SCTP") }),
        { maxLength: 2 },
      ),
      sample: fc.array(
        fc.record({
          port: fc.integer({ min: 1, max: 400 }),
          protocol: fc.constantFrom<Protocol>("TCP", "UDP", "SCTP"),
        }),
        { minLength: 10, maxLength: 20 },
      ),
    });
    fc.assert(
      fc.property(arb, ({ ports, egressPorts, sample }) => {
        const objs: KubeObject[] = [
          ...xyz(["x/a", "y/a", "y/b"]),
          netpol("x", "in", { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ ports }] }),
          netpol("y", "out", {
            podSelector: { matchLabels: { pod: "b" } },
            policyTypes: ["Egress"],
            egress: [{ ports: egressPorts }],
          }),
        ];
        const c = clusterOf(objs);
        const r = reachablePaths(c, tenantX, others);
        for (const s of [
          ...sample,
          { port: 65535, protocol: "TCP" as const },
          { port: 80, protocol: "TCP" as const },
          { port: 81, protocol: "UDP" as const },
        ])
          for (const from of c.pods)
            for (const to of c.pods) {
              if (from === to || (from.namespace === "x") === (to.namespace === "x")) continue;
              const want = reach(c, from, to, s.port, s.protocol);
              const listed = r.paths.some(
                (p) =>
                  p.from === `${from.namespace}/${from.name}` &&
                  p.to === `${to.namespace}/${to.name}` &&
                  p.protocol === s.protocol &&
                  p.ports.some((q) => q.from <= s.port && s.port <= q.to),
              );
              expect(listed).toBe(want);
            }
      }),
      { numRuns: 60 },
    );
  });

  it("port classes include a port no policy mentions", () => {
    const c = clusterOf([
      ...xyz(["x/a"]),
      netpol("x", "p", { podSelector: {}, ingress: [{ ports: [{ port: 1, endPort: 65535 }] }] }),
    ]);
    const tcp = portClasses(c, ["TCP"]);
    // 80 and 81 are container ports (named ports could resolve to them); the rest is one class.
    expect(tcp.map((p) => p.ranges)).toEqual([
      [
        { from: 1, to: 79 },
        { from: 82, to: 65535 },
      ],
      [{ from: 80, to: 80 }],
      [{ from: 81, to: 81 }],
    ]);
  });
});

function reach(c: Cluster, from: Pod, to: Pod, port: number, protocol: Protocol): boolean {
  return evaluate(c, { from: { kind: "pod", pod: from }, to: { kind: "pod", pod: to }, port, protocol })
    .allowed;
}
