import { describe, expect, it } from "vitest";
import type { KubeObject } from "../k8s/index.js";
import { NetpolInputError } from "./errors.js";
import { parseModel } from "./parse.js";

const src = (objects: KubeObject[]) =>
  objects.map((object, i) => ({ object, source: { file: "f.yaml", document: i + 1, line: 10 * i + 1 } }));
const np = (spec: unknown, name = "p", namespace = "x"): KubeObject => ({
  apiVersion: "networking.k8s.io/v1",
  kind: "NetworkPolicy",
  metadata: { name, namespace },
  spec,
});

function errorsOf(objects: KubeObject[]): string[] {
  try {
    parseModel(src(objects));
  } catch (e) {
    if (e instanceof NetpolInputError) return e.issues.map((i) => i.message);
    throw e;
  }
  return [];
}

describe("parsing NetworkPolicies", () => {
  it("defaults policyTypes to Ingress, adding Egress only when egress rules exist", () => {
    const m = parseModel(
      src([
        np({ podSelector: {} }, "a"),
        np({ podSelector: {}, egress: [{}] }, "b"),
        np({ podSelector: {}, egress: [] }, "c"),
      ]),
    );
    expect(m.policies.map((p) => [p.name, p.policyTypes, p.policyTypesExplicit])).toEqual([
      ["a", { ingress: true, egress: false }, false],
      ["b", { ingress: true, egress: true }, false],
      ["c", { ingress: true, egress: false }, false],
    ]);
  });

  it("a null podSelector selects every pod, as the API server decodes it", () => {
    expect(parseModel(src([np({ podSelector: null })])).policies[0]?.podSelector).toEqual({});
  });

  it("an empty from list and a missing one both match every peer", () => {
    const m = parseModel(src([np({ podSelector: {}, ingress: [{ from: [] }, {}] })]));
    expect(m.policies[0]?.ingress.map((r) => r.peers)).toEqual([undefined, undefined]);
  });

  it("ports default to TCP and keep numbers, ranges and names apart", () => {
    const m = parseModel(
      src([
        np({
          podSelector: {},
          ingress: [
            {
              ports: [
                { port: 80 },
                { port: 80, endPort: 90, protocol: "UDP" },
                { port: "web", protocol: "SCTP" },
                { protocol: "UDP" },
              ],
            },
          ],
        }),
      ]),
    );
    expect(m.policies[0]?.ingress[0]?.ports).toEqual([
      { kind: "range", protocol: "TCP", from: 80, to: 80 },
      { kind: "range", protocol: "UDP", from: 80, to: 90 },
      { kind: "named", name: "web", protocol: "SCTP" },
      { kind: "all", protocol: "UDP" },
    ]);
  });

  it.each([
    [
      { podSelector: { matchExpressions: [{ key: "a", operator: "Equals", values: ["b"] }] } },
      "spec.podSelector.matchExpressions[0].operator: not a valid selector operator: Equals",
    ],
    [
      { podSelector: { matchExpressions: [{ key: "a", operator: "In" }] } },
      "spec.podSelector.matchExpressions[0].values: must be specified when operator is In",
    ],
    [
      { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: "10.0.0.0/33" } }] }] },
      'spec.ingress[0].from[0].ipBlock.cidr: invalid CIDR "10.0.0.0/33"',
    ],
    [
      { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: "10.0.0.0/8" }, podSelector: {} }] }] },
      "spec.ingress[0].from[0]: Forbidden: may not specify both ipBlock and another peer",
    ],
    [
      { podSelector: {}, ingress: [{ from: [{}] }] },
      "spec.ingress[0].from[0]: Required value: must specify a peer",
    ],
    [
      { podSelector: {}, ingress: [{ ports: [{ port: 0 }] }] },
      "spec.ingress[0].ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive",
    ],
    [
      { podSelector: {}, ingress: [{ ports: [{ port: 90, endPort: 80 }] }] },
      "spec.ingress[0].ports[0].endPort: must be greater than or equal to `port`",
    ],
    [
      { podSelector: {}, ingress: [{ ports: [{ port: "web", endPort: 80 }] }] },
      "spec.ingress[0].ports[0].endPort: may not be specified when `port` is non-numeric",
    ],
    [
      { podSelector: {}, ingress: [{ ports: [{ endPort: 80 }] }] },
      "spec.ingress[0].ports[0].endPort: may not be specified when `port` is not specified",
    ],
    [
      { podSelector: {}, ingress: [{ ports: [{ port: 80, protocol: "ICMP" }] }] },
      'spec.ingress[0].ports[0].protocol: Unsupported value: "ICMP": supported values: "TCP", "UDP", "SCTP"',
    ],
    [
      { podSelector: {}, policyTypes: ["Both"] },
      'spec.policyTypes[0]: Unsupported value: "Both": supported values: "Ingress", "Egress"',
    ],
    [
      { podSelector: {}, egress: [{ ports: [{ port: "80" }] }] },
      'spec.egress[0].ports[0].port: Invalid value: "80": must contain at least one letter (a-z)',
    ],
  ])("rejects %j", (spec, message) => {
    expect(errorsOf([np(spec)])).toContain(message);
  });

  it("reports every invalid object, naming file, document and line", () => {
    try {
      parseModel(
        src([
          np({ podSelector: {}, policyTypes: ["X"] }, "one"),
          np({ podSelector: { matchExpressions: [{ key: "k", operator: "Bad" }] } }, "two"),
        ]),
      );
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(NetpolInputError);
      const msg = (e as Error).message.split("\n");
      expect(msg[0]).toMatch(/^f\.yaml document 1 \(line 1\): NetworkPolicy x\/one: spec\.policyTypes\[0\]/);
      expect(msg[1]).toMatch(/^f\.yaml document 2 \(line 11\): NetworkPolicy x\/two: /);
    }
  });

  it("rejects a second object with the same kind, namespace and name", () => {
    expect(errorsOf([np({}, "same"), np({}, "same")])).toEqual([
      "defined twice (first at f.yaml document 1)",
    ]);
  });
});

describe("parsing pods, namespaces and other kinds", () => {
  it("ignores kinds that are not networking objects", () => {
    const m = parseModel(
      src([
        { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" } },
        { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "d" } },
        { kind: "NetworkPolicy", apiVersion: "example.com/v1" },
      ]),
    );
    expect(m).toEqual({ namespaces: [], pods: [], policies: [], adminPolicies: [] });
  });

  it("gives every namespace its name label and implies namespaces that pods use", () => {
    const m = parseModel(
      src([
        {
          apiVersion: "v1",
          kind: "Namespace",
          metadata: { name: "x", labels: { team: "a", "kubernetes.io/metadata.name": "wrong" } },
        },
        { apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "y" } },
      ]),
    );
    expect(m.namespaces).toEqual([
      {
        name: "x",
        labels: { team: "a", "kubernetes.io/metadata.name": "x" },
        source: { file: "f.yaml", document: 1, line: 1 },
      },
      { name: "y", labels: { "kubernetes.io/metadata.name": "y" } },
    ]);
  });

  it("reads pod addresses, container ports and host networking", () => {
    const m = parseModel(
      src([
        {
          apiVersion: "v1",
          kind: "Pod",
          metadata: { name: "p" },
          spec: {
            hostNetwork: true,
            containers: [
              { ports: [{ containerPort: 53, protocol: "UDP", name: "dns" }, { containerPort: 8080 }] },
            ],
          },
          status: { podIPs: [{ ip: "fd00::5" }] },
        },
      ]),
    );
    const pod = m.pods[0];
    expect(pod?.namespace).toBe("default");
    expect(pod?.ip?.family).toBe(6);
    expect(pod?.hostNetwork).toBe(true);
    expect(pod?.ports).toEqual([
      { port: 53, protocol: "UDP", name: "dns" },
      { port: 8080, protocol: "TCP" },
    ]);
  });

  it("rejects a pod whose address does not parse", () => {
    expect(
      errorsOf([{ apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, status: { podIP: "10.0.0.300" } }]),
    ).toEqual(['status.podIP: not a valid IP address: "10.0.0.300"']);
  });

  it("validates admin policies as their CRDs do", () => {
    const admin = (kind: string, apiVersion: string, name: string, spec: unknown): KubeObject => ({
      apiVersion,
      kind,
      metadata: { name },
      spec,
    });
    expect(
      errorsOf([
        admin("BaselineAdminNetworkPolicy", "policy.networking.k8s.io/v1alpha1", "other", {
          subject: { namespaces: {} },
        }),
      ]),
    ).toEqual([
      'metadata.name: Only one baseline admin network policy with metadata.name="default" can be created in the cluster',
    ]);
    expect(
      errorsOf([
        admin("AdminNetworkPolicy", "policy.networking.k8s.io/v1alpha1", "a", {
          priority: 1001,
          subject: { namespaces: {}, pods: { podSelector: {} } },
        }),
      ]),
    ).toEqual([
      "spec.priority: must be an integer from 0 to 1000",
      "spec.subject: exactly one of namespaces, pods must be set",
    ]);
    expect(
      errorsOf([
        admin("ClusterNetworkPolicy", "policy.networking.k8s.io/v1alpha2", "c", {
          tier: "Admin",
          priority: 1,
          subject: { namespaces: {} },
          ingress: [{ action: "Allow", from: [{ namespaces: {} }] }],
        }),
      ]),
    ).toEqual([
      'spec.ingress[0].action: Unsupported value: "Allow": supported values: "Accept", "Deny", "Pass"',
    ]);
    expect(
      errorsOf([
        admin("ClusterNetworkPolicy", "policy.networking.k8s.io/v1alpha2", "c", {
          tier: "Admin",
          priority: 1,
          subject: { namespaces: {} },
          egress: [{ action: "Deny", to: [{ networks: ["10.0.0.0/99"] }] }],
        }),
      ]),
    ).toEqual(['spec.egress[0].to[0].networks[0]: Invalid CIDR format provided: "10.0.0.0/99"']);
    expect(
      errorsOf([
        admin("AdminNetworkPolicy", "policy.networking.k8s.io/v1alpha1", "a", {
          priority: 1,
          subject: { namespaces: {} },
          ingress: [{ action: "Deny", from: [{ networks: ["10.0.0.0/8"] }] }],
        }),
      ]),
    ).toEqual(["spec.ingress[0].from[0]: exactly one of namespaces, pods must be set"]);
  });
});
