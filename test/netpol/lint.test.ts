import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/core/k8s/index.js";
import { lint, type LintCode } from "../../src/core/netpol/index.js";
import { clusterOf, netpol, xyz } from "./fixtures.js";

const codes = (objs: KubeObject[]): [LintCode, string][] =>
  lint(clusterOf(objs)).map((f) => [f.code, f.object]);
const dnsPod: KubeObject = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "coredns", namespace: "kube-system", labels: { "k8s-app": "kube-dns" } },
  spec: { containers: [{ ports: [{ containerPort: 53, protocol: "UDP", name: "dns" }] }] },
  status: { podIP: "10.96.0.10" },
};
const toDns = {
  to: [
    {
      namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
      podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
    },
  ],
  ports: [{ port: 53, protocol: "UDP" }],
};

describe("lint", () => {
  it("flags a policy whose podSelector selects no pod", () => {
    expect(
      codes([
        ...xyz(["x/a"]),
        netpol("x", "typo", { podSelector: { matchLabels: { pod: "aa" } }, policyTypes: ["Ingress"] }),
      ]),
    ).toContainEqual(["SelectsNothing", "NetworkPolicy x/typo"]);
  });

  it("flags pods whose egress policy blocks DNS, and not once DNS is allowed", () => {
    const deny = netpol("x", "deny-egress", { podSelector: {}, policyTypes: ["Egress"] });
    expect(codes([...xyz(["x/a", "x/b"]), deny])).toContainEqual(["DnsBlocked", "pods x/a, x/b"]);
    expect(codes([...xyz(["x/a", "x/b"]), dnsPod, deny])).toContainEqual(["DnsBlocked", "pods x/a, x/b"]);
    const allowDns = netpol("x", "allow-dns", { podSelector: {}, policyTypes: ["Egress"], egress: [toDns] });
    expect(codes([...xyz(["x/a", "x/b"]), dnsPod, deny, allowDns]).map((c) => c[0])).not.toContain(
      "DnsBlocked",
    );
    expect(codes([...xyz(["x/a", "x/b"]), deny, allowDns]).map((c) => c[0])).not.toContain("DnsBlocked");
  });

  it("flags an empty egress list without policyTypes, which denies ingress instead of egress", () => {
    expect(
      codes([...xyz(["x/a"]), netpol("x", "deny-egress", { podSelector: {}, egress: [] })]),
    ).toContainEqual(["EgressDenyIneffective", "NetworkPolicy x/deny-egress"]);
  });

  it("notes defaulted policyTypes and flags rules a policy's types ignore", () => {
    const found = lint(
      clusterOf([
        ...xyz(["x/a"]),
        netpol("x", "d", { podSelector: {}, egress: [{}] }),
        netpol("x", "i", { podSelector: {}, policyTypes: ["Egress"], ingress: [{}], egress: [{}] }),
      ]),
    );
    expect(found.find((f) => f.code === "PolicyTypesDefaulted")?.message).toBe(
      "policyTypes is not set; it defaults to [Ingress, Egress], which also blocks all ingress to the selected pods",
    );
    expect(found.find((f) => f.code === "RulesIgnored")).toMatchObject({
      object: "NetworkPolicy x/i",
      severity: "warning",
    });
  });

  it("notes pods whose every ingress is blocked and flags isolation that allows everything", () => {
    const found = codes([
      ...xyz(["x/a", "y/a"]),
      netpol("x", "deny", { podSelector: {}, policyTypes: ["Ingress"] }),
      netpol("y", "open", { podSelector: {}, policyTypes: ["Ingress"], ingress: [{}] }),
    ]);
    expect(found).toContainEqual(["AllTrafficBlocked", "pod x/a"]);
    expect(found).toContainEqual(["AllTrafficAllowed", "pod y/a"]);
  });

  it("a rule whose peers select no existing pod blocks everything too", () => {
    expect(
      codes([
        ...xyz(["x/a"]),
        netpol("x", "ghost", {
          podSelector: {},
          policyTypes: ["Ingress"],
          ingress: [{ from: [{ podSelector: { matchLabels: { pod: "ghost" } } }] }],
        }),
      ]),
    ).toContainEqual(["AllTrafficBlocked", "pod x/a"]);
  });

  it("flags a named port no pod defines", () => {
    expect(
      codes([
        ...xyz(["x/a"]),
        netpol("x", "named", {
          podSelector: {},
          policyTypes: ["Ingress"],
          ingress: [{ ports: [{ port: "htpp" }] }],
        }),
      ]),
    ).toContainEqual(["NamedPortUnknown", "NetworkPolicy x/named"]);
  });

  it("flags admin policies of equal priority over the same pods, and peers it cannot simulate", () => {
    const anp = (name: string, egress: unknown[] = []): KubeObject => ({
      apiVersion: "policy.networking.k8s.io/v1alpha1",
      kind: "AdminNetworkPolicy",
      metadata: { name },
      spec: { priority: 5, subject: { namespaces: {} }, egress },
    });
    const found = codes([
      ...xyz(["x/a"]),
      anp("one"),
      anp("two", [{ action: "Allow", to: [{ domainNames: ["example.com"] }] }]),
    ]);
    expect(found).toContainEqual(["SamePriority", "AdminNetworkPolicy one, AdminNetworkPolicy two"]);
    expect(found).toContainEqual(["UnsupportedPeer", "AdminNetworkPolicy two"]);
  });

  it("finds nothing wrong in a tidy namespace", () => {
    const tidy = [
      netpol("x", "deny-all", { podSelector: {}, policyTypes: ["Ingress", "Egress"] }),
      netpol("x", "allow-dns", { podSelector: {}, policyTypes: ["Egress"], egress: [toDns] }),
      netpol("x", "allow-b-to-a", {
        podSelector: { matchLabels: { pod: "a" } },
        policyTypes: ["Ingress"],
        ingress: [
          { from: [{ podSelector: { matchLabels: { pod: "b" } } }], ports: [{ port: "serve-80-tcp" }] },
        ],
      }),
      netpol("x", "allow-a-from-b", {
        podSelector: { matchLabels: { pod: "b" } },
        policyTypes: ["Egress"],
        egress: [{ to: [{ podSelector: { matchLabels: { pod: "a" } } }] }],
      }),
    ];
    expect(
      lint(clusterOf([...xyz(["x/a", "x/b"]), dnsPod, ...tidy])).filter((f) => f.severity === "warning"),
    ).toEqual([]);
  });
});
