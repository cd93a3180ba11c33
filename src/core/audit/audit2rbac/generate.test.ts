import { describe, expect, it } from "vitest";
import type { RequestAttributes } from "../../k8s/index.js";
import { buildIndex, type PolicyRule } from "../../rbac/index.js";
import { compactGeneratedRules } from "./compact.js";
import { DEFAULT_ACCESS } from "./defaults.js";
import { DEFAULT_VERB_EXPANSIONS, generateRules, type ExpandOptions } from "./generate.js";
import type { ObservedRequest } from "./requests.js";

const bob = { username: "bob", groups: ["system:authenticated"] };
const existing = buildIndex(DEFAULT_ACCESS);

function res(
  verb: string,
  resource: string,
  opts: { ns?: string; name?: string; group?: string; sub?: string; version?: string } = {},
): ObservedRequest {
  const attributes: RequestAttributes = {
    kind: "resource",
    user: bob,
    verb,
    namespace: opts.ns ?? "",
    apiGroup: opts.group ?? "",
    apiVersion: opts.version ?? "v1",
    resource,
    subresource: opts.sub ?? "",
    name: opts.name ?? "",
  };
  return { attributes, event: { auditID: "", verb, requestURI: "", timestamp: "" } };
}

function url(verb: string, path: string): ObservedRequest {
  return {
    attributes: { kind: "nonResource", user: bob, verb, path },
    event: { auditID: "", verb, requestURI: path, timestamp: "" },
  };
}

const on: ExpandOptions = {
  expandMultiNamespace: true,
  expandMultiName: true,
  verbExpansions: DEFAULT_VERB_EXPANSIONS,
};

function generate(
  requests: ObservedRequest[],
  opts: Partial<ExpandOptions> = {},
): { cluster: PolicyRule[]; namespaced: Record<string, PolicyRule[]> } {
  const raw = generateRules(requests, existing, { ...on, ...opts });
  return {
    cluster: compactGeneratedRules(raw.cluster),
    namespaced: Object.fromEntries(
      [...raw.namespaced].map(([ns, rules]) => [ns, compactGeneratedRules(rules)]),
    ),
  };
}

const r = (verbs: string[], group: string, resources: string[], names?: string[]): PolicyRule => ({
  apiGroups: [group],
  ...(names ? { resourceNames: names } : {}),
  resources,
  verbs,
});

describe("generateRules, after liggitt/audit2rbac's own cases", () => {
  it("generates nothing for nothing", () => {
    expect(generate([])).toEqual({ cluster: [], namespaced: {} });
  });

  it("generates nothing for discovery every cluster already allows", () => {
    expect(
      generate([
        url("get", "/api"),
        url("get", "/apis/apps/v1"),
        url("get", "/version"),
        url("get", "/openapi/v3"),
      ]),
    ).toEqual({ cluster: [], namespaced: {} });
  });

  it("gives a non-resource URL exactly", () => {
    expect(generate([url("get", "/foo"), url("post", "/foo")]).cluster).toEqual([
      { nonResourceURLs: ["/foo"], verbs: ["get"] },
      { nonResourceURLs: ["/foo"], verbs: ["post"] },
    ]);
  });

  it("keeps names of cluster-scoped objects seen once", () => {
    expect(
      generate([
        res("get", "nodes", { name: "mynode" }),
        res("get", "storageclasses", { group: "storage.k8s.io", name: "mysc" }),
      ]).cluster,
    ).toEqual([
      r(["get"], "", ["nodes"], ["mynode"]),
      r(["get"], "storage.k8s.io", ["storageclasses"], ["mysc"]),
    ]);
  });

  it("drops the name when the same request names two objects", () => {
    const reqs = [
      res("get", "nodes", { name: "node1" }),
      res("get", "nodes", { name: "node2" }),
      res("get", "storageclasses", { group: "storage.k8s.io", name: "sc1" }),
      res("get", "storageclasses", { group: "storage.k8s.io", name: "sc2" }),
    ];
    expect(generate(reqs).cluster).toEqual([
      r(["get"], "", ["nodes"]),
      r(["get"], "storage.k8s.io", ["storageclasses"]),
    ]);
    // without name expansion the names are merged into one rule
    expect(generate(reqs, { expandMultiName: false }).cluster).toEqual([
      r(["get"], "", ["nodes"], ["node1", "node2"]),
      r(["get"], "storage.k8s.io", ["storageclasses"], ["sc1", "sc2"]),
    ]);
  });

  it("lets a list, sorted first and expanded to get and watch, cover later gets", () => {
    const reqs = [
      res("get", "nodes", { name: "node1" }),
      res("get", "nodes", { name: "node2" }),
      res("list", "nodes"),
    ];
    expect(generate(reqs, { expandMultiName: false }).cluster).toEqual([
      r(["get", "list", "watch"], "", ["nodes"]),
    ]);
  });

  it("keeps namespaced requests in their namespace's Role", () => {
    const out = generate([
      res("get", "configmaps", { ns: "ns1", name: "cm1" }),
      res("get", "pods", { ns: "ns2", name: "pod1" }),
    ]);
    expect(out).toEqual({
      cluster: [],
      namespaced: {
        ns1: [r(["get"], "", ["configmaps"], ["cm1"])],
        ns2: [r(["get"], "", ["pods"], ["pod1"])],
      },
    });
  });

  it("widens requests seen in two namespaces to the cluster and on two names to any name", () => {
    const reqs = [
      res("get", "configmaps", { ns: "ns1", name: "cm1" }),
      res("get", "pods", { ns: "ns1", name: "pod1" }),
      res("get", "pods", { ns: "ns1", name: "pod2" }),
      res("get", "pods", { ns: "ns2", name: "pod1" }),
      res("get", "pods", { ns: "ns2", name: "pod2" }),
      res("get", "deployments", { ns: "ns1", group: "apps", name: "dep1" }),
      res("get", "deployments", { ns: "ns2", group: "apps", name: "dep2" }),
    ];
    expect(generate(reqs)).toEqual({
      cluster: [r(["get"], "", ["pods"]), r(["get"], "apps", ["deployments"])],
      namespaced: { ns1: [r(["get"], "", ["configmaps"], ["cm1"])] },
    });
  });

  it("with namespace expansion only, widens to the cluster but keeps the names seen", () => {
    const reqs = [
      res("get", "pods", { ns: "ns2", name: "pod1" }),
      res("get", "pods", { ns: "ns3", name: "pod1" }),
      res("get", "pods", { ns: "ns2", name: "pod2" }),
      res("get", "pods", { ns: "ns3", name: "pod3" }),
    ];
    expect(generate(reqs, { expandMultiName: false })).toEqual({
      cluster: [r(["get"], "", ["pods"], ["pod1"])],
      namespaced: { ns2: [r(["get"], "", ["pods"], ["pod2"])], ns3: [r(["get"], "", ["pods"], ["pod3"])] },
    });
  });

  it("with no expansion at all, stays in each namespace with each name", () => {
    const reqs = [res("get", "pods", { ns: "a", name: "p" }), res("get", "pods", { ns: "b", name: "p" })];
    expect(generate(reqs, { expandMultiName: false, expandMultiNamespace: false })).toEqual({
      cluster: [],
      namespaced: { a: [r(["get"], "", ["pods"], ["p"])], b: [r(["get"], "", ["pods"], ["p"])] },
    });
  });

  it("does not widen across API versions, as audit2rbac compares whole requests", () => {
    const reqs = [
      res("list", "deployments", { ns: "a", group: "apps", version: "v1" }),
      res("list", "deployments", { ns: "b", group: "apps", version: "v1beta1" }),
    ];
    expect(Object.keys(generate(reqs).namespaced)).toEqual(["a", "b"]);
  });

  it("expands verbs and keeps subresources", () => {
    const out = generate([
      res("update", "deployments", { ns: "a", group: "apps", name: "d", sub: "scale" }),
      res("patch", "pods", { ns: "a", name: "p" }),
    ]);
    expect(out.namespaced["a"]).toEqual([
      r(["get", "patch", "update"], "", ["pods"], ["p"]),
      r(["get", "patch", "update"], "apps", ["deployments/scale"], ["d"]),
    ]);
  });

  it("merges resources that share verbs and groups into one rule", () => {
    const out = generate([
      res("list", "secrets", { ns: "a" }),
      res("list", "pods", { ns: "a" }),
      res("list", "configmaps", { ns: "a" }),
    ]);
    expect(out.namespaced["a"]).toEqual([r(["get", "list", "watch"], "", ["configmaps", "pods", "secrets"])]);
  });

  it("uses existing access: requests it allows produce nothing", () => {
    const withAdmin = buildIndex([
      ...DEFAULT_ACCESS,
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "Role",
        metadata: { name: "r", namespace: "a" },
        rules: [{ verbs: ["list"], apiGroups: [""], resources: ["pods"] }],
      },
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: { name: "r", namespace: "a" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "r" },
        subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: "bob" }],
      },
    ]);
    const raw = generateRules(
      [
        res("list", "pods", { ns: "a" }),
        res("list", "pods", { ns: "b" }),
        res("create", "pods", { ns: "a" }),
      ],
      withAdmin,
      on,
    );
    // list pods in a is allowed; the one in b still widens to the cluster, as audit2rbac compares with all requests
    expect(compactGeneratedRules(raw.cluster)).toEqual([r(["get", "list", "watch"], "", ["pods"])]);
    expect(compactGeneratedRules(raw.namespaced.get("a") ?? [])).toEqual([r(["create"], "", ["pods"])]);
  });
});
