/**
 * Cluster-admin policies: AdminNetworkPolicy and BaselineAdminNetworkPolicy (v1alpha1) and
 * ClusterNetworkPolicy (v1alpha2). Scenarios follow the network-policy-api conformance model
 * (houses as namespaces), written as our own tables. Each verdict is also checked against the matrix.
 */
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/core/k8s/index.js";
import {
  computeReachability,
  evaluate,
  type Cluster,
  type Protocol,
  type Verdict,
} from "../../src/core/netpol/index.js";
import { clusterOf, netpol } from "./fixtures.js";

const HOUSES = ["gryffindor", "slytherin", "hufflepuff"] as const;
const PODS: Readonly<Record<string, string>> = {
  gryffindor: "harry",
  slytherin: "draco",
  hufflepuff: "cedric",
};
const podName = (h: string): string => PODS[h] ?? "unknown";

function house(h: string, i: number): KubeObject[] {
  return [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: h, labels: { house: h } } },
    {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: podName(h), namespace: h, labels: { house: h, role: i === 0 ? "student" : "rival" } },
      spec: {
        containers: [
          {
            name: "web",
            ports: [
              { containerPort: 80, name: "web" },
              { containerPort: 8080, name: "web-alt" },
            ],
          },
          { name: "dns", ports: [{ containerPort: 53, protocol: "UDP", name: "dns" }] },
        ],
      },
      status: { podIP: `10.0.${i}.10` },
    },
  ];
}
const base = (): KubeObject[] => HOUSES.flatMap((h, i) => house(h, i));

const cnp = (
  name: string,
  tier: "Admin" | "Baseline",
  priority: number,
  spec: Record<string, unknown>,
): KubeObject => ({
  apiVersion: "policy.networking.k8s.io/v1alpha2",
  kind: "ClusterNetworkPolicy",
  metadata: { name },
  spec: { tier, priority, ...spec },
});
const anp = (name: string, priority: number, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: "policy.networking.k8s.io/v1alpha1",
  kind: "AdminNetworkPolicy",
  metadata: { name },
  spec: { priority, ...spec },
});
const banp = (spec: Record<string, unknown>, name = "default"): KubeObject => ({
  apiVersion: "policy.networking.k8s.io/v1alpha1",
  kind: "BaselineAdminNetworkPolicy",
  metadata: { name },
  spec,
});
const ns = (h: string) => ({ namespaces: { matchLabels: { house: h } } });

/** Evaluate from → to ("house" means that house's pod or "ip:…"), and check the matrix agrees. */
function probe(c: Cluster, from: string, to: string, port: number, protocol: Protocol = "TCP"): Verdict {
  const ep = (s: string) => {
    if (s.startsWith("ip:"))
      return {
        kind: "external" as const,
        ip: { family: 4 as const, value: ipv4(s.slice(3)), text: s.slice(3) },
      };
    const pod = c.podByKey(`${s}/${podName(s)}`);
    if (!pod) throw new Error(`no pod for ${s}`);
    return { kind: "pod" as const, pod };
  };
  const v = evaluate(c, { from: ep(from), to: ep(to), port, protocol });
  if (!from.startsWith("ip:") && !to.startsWith("ip:")) {
    const r = computeReachability(c, port, protocol);
    const idx = (h: string) => r.pods.findIndex((p) => p.namespace === h);
    expect(r.allowed(idx(from), idx(to))).toBe(v.allowed);
  }
  return v;
}
function ipv4(s: string): number {
  return s.split(".").reduce((a, b) => a * 256 + Number(b), 0);
}

const passExample = (ingressAction: string, egressAction: string) =>
  cnp("pass-example", "Admin", 10, {
    subject: ns("gryffindor"),
    ingress: [{ name: "from-slytherin", action: ingressAction, from: [ns("slytherin")] }],
    egress: [{ name: "to-slytherin", action: egressAction, to: [ns("slytherin")] }],
  });
const allowSlytherinNp = netpol("gryffindor", "allow-slytherin", {
  podSelector: null,
  policyTypes: ["Ingress", "Egress"],
  ingress: [{ from: [{ namespaceSelector: { matchLabels: { house: "slytherin" } } }] }],
  egress: [{ to: [{ namespaceSelector: { matchLabels: { house: "slytherin" } } }] }],
});
const baselineDeny = cnp("default", "Baseline", 10, {
  subject: ns("gryffindor"),
  ingress: [{ name: "deny-from-slytherin", action: "Deny", from: [ns("slytherin")] }],
  egress: [{ name: "deny-to-slytherin", action: "Deny", to: [ns("slytherin")] }],
});

describe("ClusterNetworkPolicy tiers (the conformance integration scenario)", () => {
  it("an Admin-tier Deny blocks traffic a NetworkPolicy allows, in both directions", () => {
    const c = clusterOf([...base(), passExample("Deny", "Deny"), allowSlytherinNp, baselineDeny]);
    const inbound = probe(c, "slytherin", "gryffindor", 80);
    expect(inbound.allowed).toBe(false);
    expect(inbound.ingress.decidedBy).toBe("admin");
    expect(inbound.ingress.policies).toEqual([
      { kind: "ClusterNetworkPolicy", name: "pass-example", rule: "from-slytherin", action: "Deny" },
    ]);
    const outbound = probe(c, "gryffindor", "slytherin", 8080);
    expect(outbound.allowed).toBe(false);
    expect(outbound.egress.decidedBy).toBe("admin");
  });

  it("Pass hands ingress to the NetworkPolicy, which allows it", () => {
    const c = clusterOf([...base(), passExample("Pass", "Deny"), allowSlytherinNp, baselineDeny]);
    const v = probe(c, "slytherin", "gryffindor", 80);
    expect(v.allowed).toBe(true);
    expect(v.ingress.decidedBy).toBe("networkpolicy");
    expect(v.ingress.passedBy?.name).toBe("pass-example");
    expect(v.ingress.policies[0]).toMatchObject({
      kind: "NetworkPolicy",
      namespace: "gryffindor",
      name: "allow-slytherin",
    });
  });

  it("Pass hands egress to the NetworkPolicy, which allows it", () => {
    const c = clusterOf([...base(), passExample("Deny", "Pass"), allowSlytherinNp, baselineDeny]);
    expect(probe(c, "gryffindor", "slytherin", 8080).allowed).toBe(true);
  });

  it("Pass with no NetworkPolicy selecting the pod falls through to the Baseline-tier Deny", () => {
    const c = clusterOf([...base(), passExample("Pass", "Pass"), baselineDeny]);
    const inbound = probe(c, "slytherin", "gryffindor", 80);
    expect(inbound.allowed).toBe(false);
    expect(inbound.ingress.decidedBy).toBe("baseline");
    expect(inbound.ingress.passedBy?.name).toBe("pass-example");
    expect(probe(c, "gryffindor", "slytherin", 80).egress.decidedBy).toBe("baseline");
  });

  it("traffic no tier decides is allowed by the Kubernetes default", () => {
    const c = clusterOf([...base(), passExample("Deny", "Deny"), baselineDeny]);
    const v = probe(c, "hufflepuff", "gryffindor", 80);
    expect(v.allowed).toBe(true);
    expect(v.ingress.decidedBy).toBe("default");
  });

  it("a NetworkPolicy that isolates a pod decides before the baseline, even when it blocks", () => {
    const allowHuffle = cnp("default", "Baseline", 1, {
      subject: ns("gryffindor"),
      ingress: [{ action: "Accept", from: [ns("hufflepuff")] }],
    });
    const onlySlytherin = netpol("gryffindor", "only-slytherin", {
      podSelector: {},
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { house: "slytherin" } } }] }],
    });
    const c = clusterOf([...base(), allowHuffle, onlySlytherin]);
    expect(probe(c, "hufflepuff", "gryffindor", 80).allowed).toBe(false);
    expect(probe(c, "slytherin", "gryffindor", 80).allowed).toBe(true);
  });
});

describe("priorities", () => {
  const deny50 = cnp("priority-50", "Admin", 50, {
    subject: {
      pods: {
        namespaceSelector: { matchLabels: { house: "gryffindor" } },
        podSelector: { matchLabels: { house: "gryffindor" } },
      },
    },
    ingress: [
      {
        name: "deny-slytherin",
        action: "Deny",
        from: [{ pods: { namespaceSelector: { matchLabels: { house: "slytherin" } }, podSelector: {} } }],
      },
    ],
  });
  const pass = (priority: number) =>
    cnp("pass-slytherin", "Admin", priority, {
      subject: { pods: { namespaceSelector: { matchLabels: { house: "gryffindor" } }, podSelector: {} } },
      ingress: [{ name: "pass-slytherin", action: "Pass", from: [ns("slytherin")] }],
    });

  it("the lower priority number wins: a Deny at 50 beats a Pass at 60", () => {
    const c = clusterOf([...base(), deny50, pass(60)]);
    const v = probe(c, "slytherin", "gryffindor", 80);
    expect(v.allowed).toBe(false);
    expect(v.ingress.policies[0]?.name).toBe("priority-50");
  });

  it("moving the Pass to priority 40 puts it first, so the Deny never applies", () => {
    const c = clusterOf([...base(), deny50, pass(40)]);
    const v = probe(c, "slytherin", "gryffindor", 80);
    expect(v.allowed).toBe(true);
    expect(v.ingress.passedBy?.name).toBe("pass-slytherin");
  });

  it("a Deny beats a lower-priority Allow, and a higher-priority Allow beats a Deny", () => {
    const allow = (p: number) =>
      anp("allow", p, { subject: ns("gryffindor"), ingress: [{ action: "Allow", from: [ns("slytherin")] }] });
    const deny = (p: number) =>
      anp("deny", p, { subject: ns("gryffindor"), ingress: [{ action: "Deny", from: [ns("slytherin")] }] });
    expect(probe(clusterOf([...base(), deny(5), allow(6)]), "slytherin", "gryffindor", 80).allowed).toBe(
      false,
    );
    expect(probe(clusterOf([...base(), deny(7), allow(6)]), "slytherin", "gryffindor", 80).allowed).toBe(
      true,
    );
  });

  it("rules within one policy apply in the order written", () => {
    const c = clusterOf([
      ...base(),
      anp("ordered", 1, {
        subject: ns("gryffindor"),
        ingress: [
          {
            name: "allow-web",
            action: "Allow",
            from: [ns("slytherin")],
            ports: [{ portNumber: { protocol: "TCP", port: 80 } }],
          },
          { name: "deny-rest", action: "Deny", from: [ns("slytherin")] },
        ],
      }),
    ]);
    expect(probe(c, "slytherin", "gryffindor", 80).allowed).toBe(true);
    const v = probe(c, "slytherin", "gryffindor", 8080);
    expect(v.allowed).toBe(false);
    expect(v.ingress.policies[0]?.rule).toBe("deny-rest");
  });
});

describe("tenant isolation with admin policies", () => {
  const isolate = anp("tenant-isolation", 10, {
    subject: ns("gryffindor"),
    ingress: [
      { name: "pass-own-house", action: "Pass", from: [ns("gryffindor")] },
      { name: "deny-others", action: "Deny", from: [{ namespaces: {} }] },
    ],
    egress: [
      {
        name: "deny-others",
        action: "Deny",
        to: [
          { namespaces: { matchExpressions: [{ key: "house", operator: "NotIn", values: ["gryffindor"] }] } },
        ],
      },
    ],
  });

  it("a tenant's allow-all NetworkPolicy cannot override an admin Deny", () => {
    const tenantAllowsAll = netpol("gryffindor", "allow-all", {
      podSelector: {},
      policyTypes: ["Ingress", "Egress"],
      ingress: [{}],
      egress: [{}],
    });
    const c = clusterOf([...base(), isolate, tenantAllowsAll]);
    expect(probe(c, "slytherin", "gryffindor", 80).allowed).toBe(false);
    expect(probe(c, "gryffindor", "hufflepuff", 80).allowed).toBe(false);
    expect(probe(c, "hufflepuff", "slytherin", 80).allowed).toBe(true);
  });

  it("an admin Allow cannot be blocked by a tenant's deny-all NetworkPolicy", () => {
    const monitoring = anp("allow-monitoring", 1, {
      subject: { namespaces: {} },
      ingress: [{ action: "Allow", from: [ns("hufflepuff")], ports: [{ namedPort: "web" }] }],
    });
    const denyAll = netpol("slytherin", "deny-all", { podSelector: {}, ingress: [] });
    const c = clusterOf([...base(), monitoring, denyAll]);
    expect(probe(c, "hufflepuff", "slytherin", 80).allowed).toBe(true);
    expect(probe(c, "hufflepuff", "slytherin", 8080).allowed).toBe(false);
    expect(probe(c, "gryffindor", "slytherin", 80).allowed).toBe(false);
  });
});

describe("subjects, peers and ports", () => {
  it("a pods subject needs both the namespace and the pod selector to match", () => {
    const c = clusterOf([
      ...base(),
      anp("rivals-only", 1, {
        subject: { pods: { namespaceSelector: {}, podSelector: { matchLabels: { role: "rival" } } } },
        ingress: [{ action: "Deny", from: [{ namespaces: {} }] }],
      }),
    ]);
    expect(probe(c, "slytherin", "gryffindor", 80).allowed).toBe(true); // harry is a student
    expect(probe(c, "gryffindor", "slytherin", 80).allowed).toBe(false);
  });

  it("a pods peer needs both selectors to match the peer", () => {
    const c = clusterOf([
      ...base(),
      anp("deny-rival-slytherins", 1, {
        subject: { namespaces: {} },
        ingress: [
          {
            action: "Deny",
            from: [
              {
                pods: {
                  namespaceSelector: { matchLabels: { house: "slytherin" } },
                  podSelector: { matchLabels: { role: "student" } },
                },
              },
            ],
          },
        ],
      }),
    ]);
    expect(probe(c, "slytherin", "gryffindor", 80).allowed).toBe(true); // draco is a rival, not a student
  });

  it("ANP ports: a number, a range and a named port each match only their ports", () => {
    const c = clusterOf([
      ...base(),
      anp("ports", 1, {
        subject: ns("gryffindor"),
        ingress: [
          {
            action: "Allow",
            from: [{ namespaces: {} }],
            ports: [
              { portNumber: { port: 80 } },
              { portRange: { protocol: "UDP", start: 50, end: 60 } },
              { namedPort: "web-alt" },
            ],
          },
          { action: "Deny", from: [{ namespaces: {} }] },
        ],
      }),
    ]);
    expect(probe(c, "slytherin", "gryffindor", 80).allowed).toBe(true);
    expect(probe(c, "slytherin", "gryffindor", 8080).allowed).toBe(true);
    expect(probe(c, "slytherin", "gryffindor", 53, "UDP").allowed).toBe(true);
    expect(probe(c, "slytherin", "gryffindor", 53, "TCP").allowed).toBe(false);
    expect(probe(c, "slytherin", "gryffindor", 81).allowed).toBe(false);
  });

  it("CNP protocols: a port number, a range, a whole protocol and a named port", () => {
    const c = clusterOf([
      ...base(),
      cnp("protocols", "Admin", 1, {
        subject: ns("gryffindor"),
        ingress: [
          {
            action: "Accept",
            from: [{ namespaces: {} }],
            protocols: [
              { tcp: { destinationPort: { number: 80 } } },
              { tcp: { destinationPort: { range: { start: 9000, end: 9100 } } } },
              { sctp: {} },
              { destinationNamedPort: "dns" },
            ],
          },
          { action: "Deny", from: [{ namespaces: {} }] },
        ],
      }),
    ]);
    expect(probe(c, "slytherin", "gryffindor", 80).allowed).toBe(true);
    expect(probe(c, "slytherin", "gryffindor", 9050).allowed).toBe(true);
    expect(probe(c, "slytherin", "gryffindor", 1234, "SCTP").allowed).toBe(true);
    expect(probe(c, "slytherin", "gryffindor", 53, "UDP").allowed).toBe(true);
    expect(probe(c, "slytherin", "gryffindor", 8080).allowed).toBe(false);
  });

  it("an egress networks peer matches pod addresses and outside addresses alike", () => {
    const c = clusterOf([
      ...base(),
      cnp("no-10-0-1", "Admin", 1, {
        subject: ns("gryffindor"),
        egress: [{ action: "Deny", to: [{ networks: ["10.0.1.0/24", "192.168.0.0/16"] }] }],
      }),
    ]);
    expect(probe(c, "gryffindor", "slytherin", 80).allowed).toBe(false); // draco is 10.0.1.10
    expect(probe(c, "gryffindor", "hufflepuff", 80).allowed).toBe(true);
    expect(probe(c, "gryffindor", "ip:192.168.4.4", 443).allowed).toBe(false);
    expect(probe(c, "gryffindor", "ip:8.8.8.8", 443).allowed).toBe(true);
  });

  it("traffic from outside the cluster is not matched by admin ingress peers, so NetworkPolicy decides", () => {
    const c = clusterOf([
      ...base(),
      anp("deny-all-pods", 1, {
        subject: ns("gryffindor"),
        ingress: [{ action: "Deny", from: [{ namespaces: {} }] }],
      }),
      netpol("gryffindor", "from-lb", {
        podSelector: {},
        ingress: [{ from: [{ ipBlock: { cidr: "203.0.113.0/24" } }] }],
      }),
    ]);
    expect(probe(c, "ip:203.0.113.7", "gryffindor", 80).allowed).toBe(true);
    expect(probe(c, "ip:198.51.100.1", "gryffindor", 80).allowed).toBe(false);
    expect(probe(c, "slytherin", "gryffindor", 80).allowed).toBe(false);
  });

  it("the BaselineAdminNetworkPolicy applies only when no NetworkPolicy isolates the pod", () => {
    const b = banp({
      subject: { namespaces: {} },
      ingress: [{ action: "Deny", from: [{ namespaces: {} }] }],
    });
    const c = clusterOf([
      ...base(),
      b,
      netpol("slytherin", "allow-gryffindor", {
        podSelector: {},
        ingress: [{ from: [{ namespaceSelector: { matchLabels: { house: "gryffindor" } } }] }],
      }),
    ]);
    const blocked = probe(c, "slytherin", "gryffindor", 80);
    expect(blocked.allowed).toBe(false);
    expect(blocked.ingress.policies[0]).toMatchObject({
      kind: "BaselineAdminNetworkPolicy",
      name: "default",
      action: "Deny",
    });
    expect(probe(c, "gryffindor", "slytherin", 80).allowed).toBe(true);
    expect(probe(c, "hufflepuff", "slytherin", 80).allowed).toBe(false); // isolated by the NetworkPolicy
  });

  it("an AdminNetworkPolicy Pass delegates to NetworkPolicy, and without one to the BaselineAdminNetworkPolicy", () => {
    const pass = anp("pass-slytherin", 3, {
      subject: ns("gryffindor"),
      ingress: [{ name: "pass", action: "Pass", from: [ns("slytherin")] }],
    });
    const b = banp({
      subject: { namespaces: {} },
      ingress: [{ name: "deny-all", action: "Deny", from: [{ namespaces: {} }] }],
    });
    const viaBanp = probe(clusterOf([...base(), pass, b]), "slytherin", "gryffindor", 80);
    expect(viaBanp.allowed).toBe(false);
    expect(viaBanp.ingress).toMatchObject({
      decidedBy: "baseline",
      passedBy: { kind: "AdminNetworkPolicy", name: "pass-slytherin", rule: "pass", action: "Pass" },
      policies: [{ kind: "BaselineAdminNetworkPolicy", name: "default", rule: "deny-all", action: "Deny" }],
    });
    const viaNp = probe(clusterOf([...base(), pass, b, allowSlytherinNp]), "slytherin", "gryffindor", 80);
    expect(viaNp.allowed).toBe(true);
    expect(viaNp.ingress.decidedBy).toBe("networkpolicy");
  });

  it("Baseline-tier ClusterNetworkPolicies precede the BaselineAdminNetworkPolicy", () => {
    const b = banp({
      subject: { namespaces: {} },
      ingress: [{ action: "Deny", from: [{ namespaces: {} }] }],
    });
    const allow = cnp("baseline-allow", "Baseline", 1000, {
      subject: { namespaces: {} },
      ingress: [{ action: "Accept", from: [ns("hufflepuff")] }],
    });
    const c = clusterOf([...base(), b, allow]);
    expect(probe(c, "hufflepuff", "gryffindor", 80).allowed).toBe(true);
    expect(probe(c, "slytherin", "gryffindor", 80).allowed).toBe(false);
  });

  it("a Baseline-tier Pass goes on to the default, which allows", () => {
    const c = clusterOf([
      ...base(),
      cnp("baseline-pass", "Baseline", 1, {
        subject: { namespaces: {} },
        ingress: [{ action: "Pass", from: [ns("slytherin")] }],
      }),
      cnp("baseline-deny", "Baseline", 2, {
        subject: { namespaces: {} },
        ingress: [{ action: "Deny", from: [{ namespaces: {} }] }],
      }),
    ]);
    const v = probe(c, "slytherin", "gryffindor", 80);
    expect(v.allowed).toBe(true);
    expect(v.ingress.decidedBy).toBe("default");
    expect(probe(c, "hufflepuff", "gryffindor", 80).allowed).toBe(false);
  });

  it("host-network pods are neither subjects nor selected peers of admin policies", () => {
    const hostPod: KubeObject = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "node-agent", namespace: "hufflepuff", labels: { house: "hufflepuff" } },
      spec: { hostNetwork: true, containers: [] },
      status: { podIP: "192.0.2.1" },
    };
    const c = clusterOf([
      ...base(),
      hostPod,
      anp("deny", 1, {
        subject: { namespaces: {} },
        ingress: [{ action: "Deny", from: [{ namespaces: {} }] }],
      }),
    ]);
    const agent = c.podByKey("hufflepuff/node-agent");
    const harry = c.podByKey("gryffindor/harry");
    if (!agent || !harry) throw new Error("missing pods");
    expect(
      evaluate(c, {
        from: { kind: "pod", pod: agent },
        to: { kind: "pod", pod: harry },
        port: 80,
        protocol: "TCP",
      }).allowed,
    ).toBe(true);
    expect(
      evaluate(c, {
        from: { kind: "pod", pod: harry },
        to: { kind: "pod", pod: agent },
        port: 80,
        protocol: "TCP",
      }).allowed,
    ).toBe(true);
  });
});
