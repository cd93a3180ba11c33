import { describe, expect, it } from "vitest";
import type { KubeObject } from "../k8s/index.js";
import { buildCluster, type Cluster } from "./cluster.js";
import { evaluate, type Verdict } from "./evaluate.js";
import { explainVerdict } from "./explain.js";
import { parseIp } from "./ip.js";
import { parseModel } from "./parse.js";
import type { Endpoint, Protocol } from "./types.js";

const pod = (
  ns: string,
  name: string,
  ip: string | undefined,
  extra: Record<string, unknown> = {},
): KubeObject => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: ns, labels: { app: name } },
  spec: { containers: [{ ports: [{ containerPort: 8443, name: "https" }] }], ...extra },
  status: ip ? { podIP: ip } : {},
});
const np = (ns: string, name: string, spec: unknown): KubeObject => ({
  apiVersion: "networking.k8s.io/v1",
  kind: "NetworkPolicy",
  metadata: { name, namespace: ns },
  spec,
});
const cluster = (objs: KubeObject[]): Cluster =>
  buildCluster(parseModel(objs.map((object, i) => ({ object, source: { file: "t", document: i + 1 } }))));
function ep(c: Cluster, s: string): Endpoint {
  if (s.startsWith("ip:")) {
    const ip = parseIp(s.slice(3));
    if (!ip) throw new Error(s);
    return { kind: "external", ip };
  }
  const p = c.podByKey(s);
  if (!p) throw new Error(s);
  return { kind: "pod", pod: p };
}
const probe = (c: Cluster, from: string, to: string, port = 8443, protocol: Protocol = "TCP"): Verdict =>
  evaluate(c, { from: ep(c, from), to: ep(c, to), port, protocol });

describe("evaluate", () => {
  it("an IPv6 ipBlock with except matches IPv6 pod addresses, and an IPv4 block only IPv4 ones", () => {
    const c = cluster([
      pod("x", "a", "fd00::1"),
      pod("x", "b", "fd00:1::2"),
      pod("x", "c", "10.0.0.3"),
      pod("x", "d", "fd00::4"),
      np("x", "v6", {
        podSelector: { matchLabels: { app: "d" } },
        ingress: [
          {
            from: [
              { ipBlock: { cidr: "fd00::/16", except: ["fd00:1::/48"] } },
              { ipBlock: { cidr: "0.0.0.0/0" } },
            ],
          },
        ],
      }),
    ]);
    expect(probe(c, "x/a", "x/d").allowed).toBe(true);
    expect(probe(c, "x/b", "x/d").allowed).toBe(false);
    expect(probe(c, "x/c", "x/d").allowed).toBe(true);
    expect(probe(c, "ip:2001:db8::1", "x/d").allowed).toBe(false);
  });

  it("a pod without an address matches no ipBlock, only selectors", () => {
    const c = cluster([
      pod("x", "a", undefined),
      pod("x", "d", "10.0.0.4"),
      np("x", "all-v4", {
        podSelector: { matchLabels: { app: "d" } },
        ingress: [{ from: [{ ipBlock: { cidr: "0.0.0.0/0" } }] }],
      }),
    ]);
    expect(probe(c, "x/a", "x/d").allowed).toBe(false);
  });

  it("host-network pods escape pod selectors but not ipBlocks", () => {
    const c = cluster([
      pod("x", "agent", "192.0.2.10", { hostNetwork: true }),
      pod("x", "d", "10.0.0.4"),
      np("x", "selectors", { podSelector: {}, ingress: [{ from: [{ podSelector: {} }] }] }),
    ]);
    expect(probe(c, "x/agent", "x/d").allowed).toBe(false); // not selected as a peer
    expect(probe(c, "x/d", "x/agent").allowed).toBe(true); // never isolated itself
    const withBlock = cluster([
      pod("x", "agent", "192.0.2.10", { hostNetwork: true }),
      pod("x", "d", "10.0.0.4"),
      np("x", "nodes", { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: "192.0.2.0/24" } }] }] }),
    ]);
    expect(probe(withBlock, "x/agent", "x/d").allowed).toBe(true);
  });

  it("a named egress port never matches a destination outside the cluster", () => {
    const c = cluster([
      pod("x", "a", "10.0.0.1"),
      np("x", "named", {
        podSelector: {},
        policyTypes: ["Egress"],
        egress: [{ ports: [{ port: "https" }] }],
      }),
    ]);
    expect(probe(c, "x/a", "ip:198.51.100.1", 8443).allowed).toBe(false);
    const numbered = cluster([
      pod("x", "a", "10.0.0.1"),
      np("x", "numbered", {
        podSelector: {},
        policyTypes: ["Egress"],
        egress: [{ ports: [{ port: 8443 }] }],
      }),
    ]);
    expect(probe(numbered, "x/a", "ip:198.51.100.1", 8443).allowed).toBe(true);
  });

  it("policies in other namespaces never isolate a pod", () => {
    const c = cluster([
      pod("x", "a", "10.0.0.1"),
      pod("y", "a", "10.0.0.2"),
      np("y", "deny-all", { podSelector: {} }),
    ]);
    expect(probe(c, "y/a", "x/a").allowed).toBe(true);
    expect(probe(c, "x/a", "y/a").allowed).toBe(false);
  });

  it("explains both directions, naming the deciding policies", () => {
    const c = cluster([
      pod("x", "a", "10.0.0.1"),
      pod("x", "b", "10.0.0.2"),
      np("x", "deny", { podSelector: { matchLabels: { app: "a" } } }),
      np("x", "egress-b", {
        podSelector: { matchLabels: { app: "b" } },
        policyTypes: ["Egress"],
        egress: [{ to: [{ podSelector: {} }] }],
      }),
    ]);
    expect(explainVerdict(probe(c, "x/b", "x/a"))).toBe(
      "egress allowed by NetworkPolicy x/egress-b rule egress[0]; ingress blocked: the destination is isolated for ingress by NetworkPolicy x/deny and no rule of them allows this traffic",
    );
    expect(explainVerdict(probe(c, "ip:1.2.3.4", "x/b"))).toBe(
      "egress allowed: the source is outside the cluster, where no policy applies; ingress allowed: no NetworkPolicy isolates the destination for ingress and no admin rule decides it (Kubernetes default)",
    );
  });
});
