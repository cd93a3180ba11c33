import { describe, expect, it } from "vitest";
import type { KubeObject } from "../k8s/index.js";
import { buildCluster } from "./cluster.js";
import { NetpolInputError } from "./errors.js";
import { parseModel } from "./parse.js";
import { parseProbes, runProbes } from "./probe.js";

const objects: KubeObject[] = [
  { apiVersion: "v1", kind: "Namespace", metadata: { name: "x" } },
  {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "a", namespace: "x", labels: { app: "a" } },
    spec: {
      containers: [
        {
          ports: [
            { containerPort: 8080, name: "http" },
            { containerPort: 53, protocol: "UDP", name: "dns" },
          ],
        },
      ],
    },
    status: { podIP: "10.0.0.1" },
  },
  {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "b", namespace: "x", labels: { app: "b" } },
    status: { podIP: "10.0.0.2" },
  },
  {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: "a-from-b", namespace: "x" },
    spec: {
      podSelector: { matchLabels: { app: "a" } },
      ingress: [
        {
          from: [{ podSelector: { matchLabels: { app: "b" } } }, { ipBlock: { cidr: "192.0.2.0/24" } }],
          ports: [{ port: "http" }],
        },
      ],
    },
  },
];
const cluster = buildCluster(
  parseModel(objects.map((object, i) => ({ object, source: { file: "o.yaml", document: i + 1 } }))),
);
const run = (lines: string[]) =>
  runProbes(cluster, parseProbes(lines.join("\n"), "probes.jsonl"), "probes.jsonl");
const issues = (lines: string[]): string[] => {
  try {
    run(lines);
  } catch (e) {
    if (e instanceof NetpolInputError) return e.issues.map((i) => `${i.at?.line}: ${i.message}`);
    throw e;
  }
  return [];
};

describe("probes", () => {
  it("answers in input order, naming the policies for each direction", () => {
    const r = run([
      '{"from": "x/b", "to": "x/a", "port": 8080}',
      '{"from": "x/a", "to": "x/b", "port": 80, "protocol": "udp"}',
      '{"from": "x/a", "to": "x/a", "port": 1}',
    ]);
    expect(r.map((p) => [p.from, p.to, p.protocol, p.allowed])).toEqual([
      ["x/b", "x/a", "TCP", true],
      ["x/a", "x/b", "UDP", true],
      ["x/a", "x/a", "TCP", true],
    ]);
    expect(r[0]?.ingress).toMatchObject({
      allowed: true,
      decidedBy: "networkpolicy",
      policies: [{ kind: "NetworkPolicy", namespace: "x", name: "a-from-b", rule: "ingress[0]" }],
    });
    expect(r[2]?.explanation).toBe(
      "egress allowed: a pod can always reach itself; ingress allowed: a pod can always reach itself",
    );
  });

  it("resolves a named port against the destination pod and reports the number", () => {
    const [r] = run(['{"from": "x/b", "to": "x/a", "port": "http"}']);
    expect(r).toMatchObject({ port: "http", resolvedPort: 8080, allowed: true });
  });

  it("treats ip: endpoints outside the cluster as external, and a pod's address as that pod", () => {
    const r = run([
      '{"from": "ip:192.0.2.9", "to": "x/a", "port": 8080}',
      '{"from": "ip:198.51.100.1", "to": "x/a", "port": 8080}',
      '{"from": "ip:10.0.0.2", "to": "x/a", "port": 8080}',
    ]);
    expect(r.map((p) => p.allowed)).toEqual([true, false, true]);
    expect(r[0]?.egress.decidedBy).toBe("outside");
    expect(r[2]?.egress.decidedBy).toBe("default");
  });

  it("rejects malformed lines with their line numbers and nothing else", () => {
    const found = issues([
      '{"from": "x/b", "to": "x/a", "port": 80}',
      "",
      "{nope",
      '{"from": "x/b", "to": "x/a", "port": 0}',
      '{"from": "x/b", "to": "x/a", "port": 80, "protocol": "ICMP"}',
      "[1]",
    ]);
    // The JSON engine's own wording varies between Node versions; the line and the cause do not.
    expect(found[0]).toMatch(/^3: invalid JSON: /);
    expect(found.slice(1)).toEqual([
      '4: "port" must be a number from 1 to 65535 or a port name',
      '5: "protocol" must be one of TCP, UDP, SCTP',
      "6: expected a JSON object",
    ]);
  });

  it("rejects unknown pods, unknown port names and probes with no pod", () => {
    expect(
      issues([
        '{"from": "x/zz", "to": "x/a", "port": 80}',
        '{"from": "x/a", "to": "x/b", "port": "http"}',
        '{"from": "ip:1.1.1.1", "to": "ip:2.2.2.2", "port": 80}',
        '{"from": "x/a", "to": "ip:1.1.1.1", "port": "http"}',
        '{"from": "a", "to": "ip:1.1.1.300", "port": 80}',
      ]),
    ).toEqual([
      '1: unknown pod "x/zz"',
      '2: pod x/b has no TCP container port named "http"',
      "3: at least one end must be a pod",
      "4: a named port needs a pod as destination, not ip:1.1.1.1",
      '5: "a" must be "NS/POD" or "ip:ADDRESS"',
    ]);
  });
});
