/**
 * The standard cases of Kubernetes' network-policy end-to-end suite (test/e2e/network/netpol),
 * written as our own table tests on the same model: namespaces x, y, z; pods a, b, c; ports 80 and
 * 81 over TCP, UDP and SCTP. Each case lists the pods the upstream test creates, the policies, and
 * the expected truth table for each probed port as ordered steps from all-allowed. Every table is
 * checked twice: by per-pair evaluation and by the class-based matrix.
 */
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/core/k8s/index.js";
import type { Protocol } from "../../src/core/netpol/index.js";
import {
  clusterOf,
  evaluateTable,
  expectedTable,
  matrixTable,
  netpol,
  podIp,
  podObject,
  withoutLoopback,
  xyz,
  type Step,
} from "./fixtures.js";

interface Probe {
  readonly port: number;
  readonly protocol: Protocol;
  readonly steps: readonly Step[];
}
interface Case {
  readonly name: string;
  readonly pods: readonly string[];
  readonly policies: readonly KubeObject[];
  readonly probes: readonly Probe[];
  /** Replace default pod objects (for label updates). */
  readonly podObjects?: readonly KubeObject[];
  readonly namespaceLabels?: Readonly<Record<string, Record<string, string>>>;
}

const NAME = "kubernetes.io/metadata.name";
const podA = { matchLabels: { pod: "a" } };
const onAll = (steps: readonly Step[], port = 80): Probe[] =>
  (["TCP", "UDP", "SCTP"] as const).map((protocol) => ({ port, protocol, steps }));
const tcp = (port: number, steps: readonly Step[]): Probe => ({ port, protocol: "TCP", steps });

const denyIngress = (ns: string, name = "deny-ingress"): KubeObject =>
  netpol(ns, name, { podSelector: {}, ingress: [] });
const allowFrom = (name: string, from: unknown[], ports?: unknown[]): KubeObject =>
  netpol("x", name, { podSelector: podA, ingress: [{ from, ...(ports ? { ports } : {}) }] });

const cases: Case[] = [
  {
    name: "a default-deny-ingress policy blocks every connection into its namespace and nothing else",
    pods: ["x/a", "x/b", "y/a", "y/b"],
    policies: [denyIngress("x")],
    probes: onAll([["*", "x/*", false]]),
  },
  {
    name: "a default-deny-all policy blocks every connection into and out of its namespace",
    pods: ["x/a", "x/b", "y/a"],
    policies: [
      netpol("x", "deny-all", {
        podSelector: {},
        policyTypes: ["Ingress", "Egress"],
        ingress: [],
        egress: [],
      }),
    ],
    probes: [
      tcp(80, [
        ["*", "x/*", false],
        ["x/*", "*", false],
      ]),
    ],
  },
  {
    name: "a podSelector peer allows only the selected pod of the policy's own namespace",
    pods: ["x/a", "x/b", "x/c", "y/a"],
    policies: [allowFrom("x-a-allows-x-b", [{ podSelector: { matchLabels: { pod: "b" } } }])],
    probes: [
      tcp(80, [
        ["*", "x/a", false],
        ["x/b", "x/a", true],
      ]),
    ],
  },
  {
    name: "an allow-all policy for one pod lifts a namespace's default deny for that pod only",
    pods: ["x/a", "x/b", "y/a"],
    policies: [
      denyIngress("x", "deny-all"),
      allowFrom("allow-all-to-a", [{ podSelector: {}, namespaceSelector: {} }]),
    ],
    probes: [
      tcp(80, [
        ["*", "x/a", true],
        ["*", "x/b", false],
      ]),
    ],
  },
  {
    name: "an empty namespaceSelector allows pods of every namespace",
    pods: ["x/a", "x/b", "y/a", "z/a"],
    policies: [allowFrom("allow-from-another-ns", [{ namespaceSelector: { matchLabels: {} } }])],
    probes: [tcp(80, [])],
  },
  {
    name: "a namespaceSelector peer allows only pods of the selected namespace",
    pods: ["x/a", "x/b", "y/a", "z/a"],
    policies: [
      allowFrom("allow-client-a-via-ns-selector", [{ namespaceSelector: { matchLabels: { [NAME]: "y" } } }]),
    ],
    probes: [
      tcp(80, [
        ["x/*", "x/a", false],
        ["z/*", "x/a", false],
      ]),
    ],
  },
  {
    name: "a podSelector with matchExpressions selects peers like matchLabels",
    pods: ["x/a", "x/b", "y/a"],
    policies: [
      allowFrom("x-a-allows-x-b", [
        { podSelector: { matchExpressions: [{ key: "pod", operator: "In", values: ["b"] }] } },
      ]),
    ],
    probes: [
      tcp(80, [
        ["*", "x/a", false],
        ["x/b", "x/a", true],
      ]),
    ],
  },
  {
    name: "a namespaceSelector with matchExpressions selects namespaces like matchLabels",
    pods: ["x/a", "x/b", "y/a", "z/a"],
    policies: [
      allowFrom("allow-ns-y", [
        { namespaceSelector: { matchExpressions: [{ key: NAME, operator: "In", values: ["y"] }] } },
      ]),
    ],
    probes: [
      tcp(80, [
        ["x/*", "x/a", false],
        ["z/*", "x/a", false],
      ]),
    ],
  },
  {
    name: "a podSelector peer and a namespaceSelector peer side by side are alternatives (OR)",
    pods: ["x/a", "x/b", "x/c", "y/a"],
    policies: [
      allowFrom("ns-or-pod", [
        { namespaceSelector: { matchExpressions: [{ key: NAME, operator: "NotIn", values: ["x"] }] } },
        { podSelector: { matchLabels: { pod: "b" } } },
      ]),
    ],
    probes: [tcp(80, [["x/c", "x/a", false]])],
  },
  {
    name: "a podSelector and a namespaceSelector in one peer must both match (AND)",
    pods: ["x/a", "x/b", "y/a", "y/b", "z/b"],
    policies: [
      allowFrom("ns-and-pod", [
        {
          namespaceSelector: { matchExpressions: [{ key: NAME, operator: "NotIn", values: ["x"] }] },
          podSelector: { matchLabels: { pod: "b" } },
        },
      ]),
    ],
    probes: [
      tcp(80, [
        ["*", "x/a", false],
        ["y/b", "x/a", true],
        ["z/b", "x/a", true],
      ]),
    ],
  },
  {
    name: "several selector expressions in one peer all apply",
    pods: ["x/a", "x/b", "y/a", "y/b", "y/c"],
    policies: [
      allowFrom("ns-and-pods", [
        {
          namespaceSelector: { matchExpressions: [{ key: NAME, operator: "NotIn", values: ["x"] }] },
          podSelector: { matchExpressions: [{ key: "pod", operator: "In", values: ["b", "c"] }] },
        },
      ]),
    ],
    probes: [
      tcp(80, [
        ["x/*", "x/a", false],
        ["y/a", "x/a", false],
      ]),
    ],
  },
  {
    name: "two podSelector peers allow either pod",
    pods: ["x/a", "x/b", "x/c"],
    policies: [
      allowFrom("b-or-c", [
        { podSelector: { matchLabels: { pod: "b" } } },
        { podSelector: { matchLabels: { pod: "c" } } },
      ]),
    ],
    probes: [
      tcp(80, [
        ["*", "x/a", false],
        ["x/b", "x/a", true],
        ["x/c", "x/a", true],
      ]),
    ],
  },
  {
    name: "a peer of one pod in another namespace allows only that pod, over every protocol",
    pods: ["x/a", "x/b", "y/a", "y/b", "z/a"],
    policies: [
      allowFrom("y-a", [{ namespaceSelector: { matchLabels: { [NAME]: "y" } }, podSelector: podA }]),
    ],
    probes: onAll([
      ["*", "x/a", false],
      ["y/a", "x/a", true],
    ]),
  },
  {
    name: "a numbered port allows only that port",
    pods: ["x/a", "x/b", "y/a", "y/b", "z/a"],
    policies: [
      allowFrom(
        "port-81",
        [{ namespaceSelector: { matchLabels: { [NAME]: "y" } } }],
        [{ port: 81, protocol: "TCP" }],
      ),
    ],
    probes: [
      tcp(81, [
        ["x/*", "x/a", false],
        ["y/*", "x/a", true],
        ["z/*", "x/a", false],
      ]),
      tcp(80, [["*", "x/a", false]]),
    ],
  },
  {
    name: "stacked policies on one pod add up: the union of their rules is allowed",
    pods: ["x/a", "x/b", "y/a", "y/b", "z/a"],
    policies: [
      allowFrom(
        "port-81",
        [{ namespaceSelector: { matchLabels: { [NAME]: "y" } } }],
        [{ port: 81, protocol: "TCP" }],
      ),
      allowFrom(
        "port-80",
        [{ namespaceSelector: { matchLabels: { [NAME]: "y" } } }],
        [{ port: 80, protocol: "TCP" }],
      ),
    ],
    probes: [80, 81].map((p) =>
      tcp(p, [
        ["x/*", "x/a", false],
        ["y/*", "x/a", true],
        ["z/*", "x/a", false],
      ]),
    ),
  },
  {
    name: "an empty ingress rule allows everything to every port",
    pods: ["x/a", "x/b", "y/a"],
    policies: [netpol("x", "allow-all", { podSelector: {}, ingress: [{}] })],
    probes: [tcp(80, []), tcp(81, [])],
  },
  {
    name: "a named ingress port resolves against the destination pod's container ports",
    pods: ["x/a", "x/b", "y/a"],
    policies: [
      netpol("x", "allow-81", { podSelector: {}, ingress: [{ ports: [{ port: "serve-81-tcp" }] }] }),
    ],
    probes: [tcp(81, []), tcp(80, [["*", "x/*", false]])],
  },
  {
    name: "a named port combined with a namespaceSelector allows that namespace on that port only",
    pods: ["x/a", "x/b", "y/a", "z/a"],
    policies: [
      allowFrom(
        "named-80",
        [{ namespaceSelector: { matchLabels: { [NAME]: "y" } } }],
        [{ port: "serve-80-tcp", protocol: "TCP" }],
      ),
    ],
    probes: [
      tcp(80, [
        ["x/*", "x/a", false],
        ["z/*", "x/a", false],
      ]),
      tcp(81, [["*", "x/a", false]]),
    ],
  },
  {
    name: "a named egress port resolves against the destination pod",
    pods: ["x/a", "y/a"],
    policies: [
      netpol("x", "allow-egress", {
        policyTypes: ["Egress"],
        podSelector: {},
        egress: [{ ports: [{ port: "serve-80-tcp" }] }],
      }),
    ],
    probes: [tcp(80, []), tcp(81, [["x/*", "*", false]])],
  },
  {
    name: "a named port with the wrong protocol matches nothing",
    pods: ["x/a", "y/a"],
    policies: [
      netpol("x", "udp-name", {
        podSelector: {},
        ingress: [{ ports: [{ port: "serve-80-tcp", protocol: "UDP" }] }],
      }),
    ],
    probes: [tcp(80, [["*", "x/*", false]]), { port: 80, protocol: "UDP", steps: [["*", "x/*", false]] }],
  },
  {
    name: "an empty podSelector peer allows only the policy's own namespace",
    pods: ["x/a", "x/b", "y/a", "z/a"],
    policies: [
      netpol("x", "same-ns", {
        podSelector: {},
        ingress: [{ from: [{ podSelector: { matchLabels: {} } }] }],
      }),
    ],
    probes: [
      tcp(80, [
        ["y/*", "x/*", false],
        ["z/*", "x/*", false],
      ]),
    ],
  },
  {
    name: "a label added to a pod makes it selected by a deny policy",
    pods: ["x/a", "y/a"],
    podObjects: [podObject("x/a", { pod: "a", target: "isolated" }), podObject("y/a")],
    policies: [
      netpol("x", "deny-isolated", { podSelector: { matchLabels: { target: "isolated" } }, ingress: [] }),
    ],
    probes: [tcp(80, [["*", "x/a", false]])],
  },
  {
    name: "a label added to a namespace makes its pods allowed peers",
    pods: ["x/a", "y/a"],
    namespaceLabels: { y: { ns: "y", ns2: "updated" } },
    policies: [allowFrom("ns2", [{ namespaceSelector: { matchLabels: { ns2: "updated" } } }])],
    probes: [
      tcp(80, [
        ["*", "x/a", false],
        ["y/*", "*", true],
      ]),
    ],
  },
  {
    name: "a label added to a pod makes it an allowed peer",
    pods: ["x/a", "x/b"],
    podObjects: [podObject("x/a"), podObject("x/b", { pod: "b", pod2: "updated" })],
    policies: [allowFrom("pod2", [{ podSelector: { matchLabels: { pod: "b", pod2: "updated" } } }])],
    probes: [
      tcp(80, [
        ["*", "x/a", false],
        ["x/b", "x/a", true],
      ]),
    ],
  },
  {
    name: "an egress policy with no rules blocks everything the selected pod sends",
    pods: ["x/a", "x/b", "y/a"],
    policies: [netpol("x", "deny-egress-a", { podSelector: podA, policyTypes: ["Egress"], egress: [] })],
    probes: [tcp(80, [["x/a", "*", false]])],
  },
  {
    name: "an egress deny for a namespace blocks everything its pods send",
    pods: ["x/a", "x/b", "y/a"],
    policies: [netpol("x", "deny-egress-x", { podSelector: {}, policyTypes: ["Egress"] })],
    probes: [tcp(80, [["x/*", "*", false]])],
  },
  {
    name: "ingress and egress rules in one policy both apply",
    pods: ["x/a", "x/b", "x/c", "y/a"],
    policies: [
      netpol("x", "both", {
        podSelector: podA,
        policyTypes: ["Egress", "Ingress"],
        ingress: [{ from: [{ podSelector: { matchLabels: { pod: "b" } } }] }],
        egress: [{ ports: [{ port: 80 }] }],
      }),
    ],
    probes: [
      tcp(80, [
        ["*", "x/a", false],
        ["x/b", "x/a", true],
      ]),
      tcp(81, [
        ["*", "x/a", false],
        ["x/a", "*", false],
        ["x/b", "x/a", true],
      ]),
    ],
  },
  {
    name: "the source's egress can deny what the destination's ingress allows",
    pods: ["x/a", "y/a", "y/b"],
    policies: [
      netpol("x", "allow-to-y-a", {
        podSelector: podA,
        policyTypes: ["Egress"],
        egress: [{ to: [{ namespaceSelector: { matchLabels: { [NAME]: "y" } }, podSelector: podA }] }],
      }),
      netpol("y", "allow-from-x-a-on-a", {
        podSelector: podA,
        ingress: [{ from: [{ namespaceSelector: { matchLabels: { [NAME]: "x" } }, podSelector: podA }] }],
      }),
      netpol("y", "allow-from-x-a-on-b", {
        podSelector: { matchLabels: { pod: "b" } },
        ingress: [{ from: [{ namespaceSelector: { matchLabels: { [NAME]: "x" } }, podSelector: podA }] }],
      }),
    ],
    probes: [
      tcp(80, [
        ["x/a", "*", false],
        ["*", "y/a", false],
        ["x/a", "y/a", true],
        ["*", "y/b", false],
      ]),
    ],
  },
  {
    name: "an egress peer of one pod in another namespace allows only that destination",
    pods: ["x/a", "y/a", "y/b"],
    policies: [
      netpol("x", "to-y-a", {
        policyTypes: ["Egress"],
        podSelector: podA,
        egress: [{ to: [{ namespaceSelector: { matchLabels: { [NAME]: "y" } }, podSelector: podA }] }],
      }),
    ],
    probes: [
      tcp(80, [
        ["x/a", "*", false],
        ["x/a", "y/a", true],
      ]),
    ],
  },
  {
    name: "a port entry with only a protocol allows every port of that protocol and no other",
    pods: ["x/a", "y/a"],
    policies: [netpol("x", "by-proto", { podSelector: podA, ingress: [{ ports: [{ protocol: "TCP" }] }] })],
    probes: [tcp(80, []), { port: 80, protocol: "UDP", steps: [["*", "x/a", false]] }],
  },
  {
    name: "an allow-all ingress policy overrides a narrower one",
    pods: ["x/a", "y/a"],
    policies: [
      netpol("x", "port-80", { podSelector: {}, ingress: [{ ports: [{ port: 80 }] }] }),
      netpol("x", "allow-ingress", { podSelector: {}, ingress: [{}] }),
    ],
    probes: [tcp(81, [])],
  },
  {
    name: "a narrower ingress policy alone blocks other ports",
    pods: ["x/a", "y/a"],
    policies: [netpol("x", "port-80", { podSelector: {}, ingress: [{ ports: [{ port: 80 }] }] })],
    probes: [tcp(81, [["*", "x/*", false]])],
  },
  {
    name: "an allow-all egress policy overrides a narrower one",
    pods: ["x/a", "y/a"],
    policies: [
      netpol("x", "egress-80", {
        policyTypes: ["Egress"],
        podSelector: {},
        egress: [{ ports: [{ port: 80 }] }],
      }),
      netpol("x", "allow-egress", { policyTypes: ["Egress"], podSelector: {}, egress: [{}] }),
    ],
    probes: [tcp(81, [])],
  },
  {
    name: "a narrower egress policy alone blocks other ports",
    pods: ["x/a", "y/a"],
    policies: [
      netpol("x", "egress-80", {
        policyTypes: ["Egress"],
        podSelector: {},
        egress: [{ ports: [{ port: 80 }] }],
      }),
    ],
    probes: [tcp(81, [["x/*", "*", false]])],
  },
  {
    name: "an egress ipBlock of one pod's address allows only that pod",
    pods: ["x/a", "y/a", "y/b"],
    policies: [
      netpol("x", "cidr", {
        policyTypes: ["Egress"],
        podSelector: podA,
        egress: [{ to: [{ ipBlock: { cidr: `${podIp("y/b")}/32` } }] }],
      }),
    ],
    probes: [
      tcp(80, [
        ["x/a", "*", false],
        ["x/a", "y/b", true],
      ]),
    ],
  },
  {
    name: "an ipBlock except removes the excepted address",
    pods: ["x/a", "x/b", "x/c"],
    policies: [
      netpol("x", "cidr-except", {
        policyTypes: ["Egress"],
        podSelector: podA,
        egress: [{ to: [{ ipBlock: { cidr: "0.0.0.0/4", except: [`${podIp("x/b")}/32`] } }] }],
      }),
    ],
    probes: [tcp(80, [["x/a", "x/b", false]])],
  },
  {
    name: "an address excepted by one policy but allowed by another is allowed",
    pods: ["x/a", "x/b", "x/c"],
    policies: [
      netpol("x", "cidr-except", {
        policyTypes: ["Egress"],
        podSelector: podA,
        egress: [{ to: [{ ipBlock: { cidr: "0.0.0.0/4", except: [`${podIp("x/b")}/32`] } }] }],
      }),
      netpol("x", "cidr-b", {
        policyTypes: ["Egress"],
        podSelector: podA,
        egress: [{ to: [{ ipBlock: { cidr: `${podIp("x/b")}/32` } }] }],
      }),
    ],
    probes: [tcp(80, [])],
  },
  {
    name: "only the /32 policy left allows only that address",
    pods: ["x/a", "x/b", "x/c"],
    policies: [
      netpol("x", "cidr-b", {
        policyTypes: ["Egress"],
        podSelector: podA,
        egress: [{ to: [{ ipBlock: { cidr: `${podIp("x/b")}/32` } }] }],
      }),
    ],
    probes: [
      tcp(80, [
        ["x/a", "*", false],
        ["x/a", "x/b", true],
      ]),
    ],
  },
  {
    name: "ingress and egress isolation are independent",
    pods: ["x/a", "x/b", "y/a"],
    policies: [
      netpol("x", "allow-egress-for-target", { policyTypes: ["Egress"], podSelector: podA, egress: [{}] }),
      netpol("x", "deny-ingress-for-target", { podSelector: podA, ingress: [] }),
    ],
    probes: [tcp(80, [["*", "x/a", false]])],
  },
  {
    name: "an SCTP rule is never taken for TCP",
    pods: ["x/a", "y/a"],
    policies: [
      denyIngress("x"),
      allowFrom("sctp-81", [{ podSelector: {}, namespaceSelector: {} }], [{ port: 81, protocol: "SCTP" }]),
    ],
    probes: [tcp(81, [["*", "x/*", false]]), { port: 81, protocol: "SCTP", steps: [["*", "x/b", false]] }],
  },
  {
    name: "a pod selected by an SCTP-only policy is isolated for TCP",
    pods: ["x/a", "y/a"],
    policies: [
      netpol("x", "sctp-80", { podSelector: podA, ingress: [{ ports: [{ port: 80, protocol: "SCTP" }] }] }),
    ],
    probes: [tcp(81, [["*", "x/a", false]])],
  },
  {
    name: "a UDP-only policy does not allow TCP",
    pods: ["x/a", "y/a"],
    policies: [
      netpol("x", "udp-81", { podSelector: podA, ingress: [{ ports: [{ port: 81, protocol: "UDP" }] }] }),
    ],
    probes: [tcp(81, [["*", "x/a", false]]), { port: 81, protocol: "UDP", steps: [] }],
  },
  {
    name: "the default namespace name label selects namespaces in matchLabels",
    pods: ["x/a", "x/b", "y/a", "z/a"],
    policies: [allowFrom("immutable-label", [{ namespaceSelector: { matchLabels: { [NAME]: "y" } } }])],
    probes: [
      tcp(80, [
        ["x/*", "x/a", false],
        ["z/*", "x/a", false],
      ]),
    ],
  },
  {
    name: "the default namespace name label selects namespaces in matchExpressions on egress",
    pods: ["x/a", "x/b", "y/a", "z/a"],
    policies: [
      netpol("x", "not-y", {
        policyTypes: ["Egress"],
        podSelector: podA,
        egress: [
          {
            to: [
              { namespaceSelector: { matchExpressions: [{ key: NAME, operator: "NotIn", values: ["y"] }] } },
            ],
          },
        ],
      }),
    ],
    probes: [tcp(80, [["x/a", "y/*", false]])],
  },
  {
    name: "endPort makes a port range that covers both of its ends",
    pods: ["x/a", "x/b", "y/a"],
    policies: [
      netpol("x", "range", {
        podSelector: podA,
        ingress: [{ ports: [{ port: 80, endPort: 81, protocol: "TCP" }] }],
      }),
    ],
    probes: [tcp(80, []), tcp(81, []), { port: 80, protocol: "UDP", steps: [["*", "x/a", false]] }],
  },
  {
    name: "a port below an endPort range is blocked",
    pods: ["x/a", "y/a"],
    policies: [
      netpol("x", "range", { podSelector: podA, ingress: [{ ports: [{ port: 81, endPort: 90 }] }] }),
    ],
    probes: [tcp(80, [["*", "x/a", false]]), tcp(81, [])],
  },
  {
    name: "an egress endPort range allows the destinations' ports inside it over UDP",
    pods: ["x/a", "y/a", "y/b"],
    policies: [
      netpol("x", "range-egress", {
        policyTypes: ["Egress"],
        podSelector: podA,
        egress: [{ ports: [{ port: 81, endPort: 1000, protocol: "UDP" }] }],
      }),
    ],
    probes: [
      { port: 81, protocol: "UDP", steps: [] },
      { port: 80, protocol: "UDP", steps: [["x/a", "*", false]] },
      tcp(81, [["x/a", "*", false]]),
    ],
  },
  {
    name: "a policy with egress rules and no policyTypes isolates for ingress too (policyTypes defaulting)",
    pods: ["x/a", "y/a"],
    policies: [netpol("x", "egress-only-by-mistake", { podSelector: podA, egress: [{}] })],
    probes: [tcp(80, [["*", "x/a", false]])],
  },
  {
    name: "a policy listing only Egress ignores its ingress rules",
    pods: ["x/a", "y/a"],
    policies: [
      netpol("x", "egress-typed", {
        podSelector: podA,
        policyTypes: ["Egress"],
        ingress: [],
        egress: [{ ports: [{ port: 81 }] }],
      }),
    ],
    probes: [tcp(80, [["x/a", "*", false]]), tcp(81, [])],
  },
  {
    name: "deny-all plus allow from namespace by label plus a named port combine",
    pods: ["x/a", "x/b", "y/a", "y/b", "z/a"],
    policies: [
      denyIngress("x"),
      allowFrom(
        "y-named",
        [{ namespaceSelector: { matchLabels: { ns: "y" } } }],
        [{ port: "serve-81-udp", protocol: "UDP" }],
      ),
    ],
    probes: [
      {
        port: 81,
        protocol: "UDP",
        steps: [
          ["*", "x/*", false],
          ["y/*", "x/a", true],
        ],
      },
      { port: 80, protocol: "UDP", steps: [["*", "x/*", false]] },
      tcp(81, [["*", "x/*", false]]),
    ],
  },
  {
    name: "egress to a CIDR with except combined with an ingress deny on the destination blocks both ways",
    pods: ["x/a", "x/b", "y/a"],
    policies: [
      netpol("x", "egress-cidr", {
        policyTypes: ["Egress"],
        podSelector: podA,
        egress: [{ to: [{ ipBlock: { cidr: "10.0.0.0/8", except: ["10.2.0.0/16"] } }] }],
      }),
      netpol("x", "deny-b", { podSelector: { matchLabels: { pod: "b" } }, ingress: [] }),
    ],
    probes: onAll([
      ["x/a", "y/*", false],
      ["*", "x/b", false],
    ]),
  },
];

function objectsFor(c: Case): KubeObject[] {
  const base = xyz(c.pods).filter((o) => o.kind !== "Pod" || !c.podObjects);
  const namespaces = base.map((o): KubeObject => {
    const labels = o.kind === "Namespace" ? c.namespaceLabels?.[o.metadata?.name ?? ""] : undefined;
    return labels !== undefined ? { ...o, metadata: { ...o.metadata, labels } } : o;
  });
  return [...namespaces, ...(c.podObjects ?? []), ...c.policies];
}

describe("the network-policy end-to-end model", () => {
  for (const c of cases) {
    describe(c.name, () => {
      const cluster = clusterOf(objectsFor(c));
      for (const p of c.probes) {
        const expected = withoutLoopback(expectedTable(c.pods, p.steps));
        it(`matches the truth table on ${p.protocol}/${p.port} per pair`, () => {
          expect(withoutLoopback(evaluateTable(cluster, p.port, p.protocol))).toEqual(expected);
        });
        it(`matches the truth table on ${p.protocol}/${p.port} through the matrix`, () => {
          expect(withoutLoopback(matrixTable(cluster, p.port, p.protocol))).toEqual(expected);
        });
      }
    });
  }

  it("a pod can always reach itself, even under deny-all", () => {
    const c = clusterOf([
      ...xyz(["x/a", "x/b"]),
      netpol("x", "deny-all", { podSelector: {}, policyTypes: ["Ingress", "Egress"] }),
    ]);
    const t = matrixTable(c, 80, "TCP");
    expect(t["x/a"]?.["x/a"]).toBe(true);
    expect(t["x/a"]?.["x/b"]).toBe(false);
    expect(evaluateTable(c, 80, "TCP")["x/b"]?.["x/b"]).toBe(true);
  });
});
