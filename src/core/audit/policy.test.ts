import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { parseObjects, ParseError, type RequestAttributes } from "../k8s/index.js";
import { parsePolicy } from "./policy-parse.js";
import { evaluatePolicy, policyForCluster, DEFAULT_POLICY, pathMatches } from "./policy.js";
import type { Policy } from "./types.js";

function policy(yaml: string): Policy {
  const [doc] = parseObjects(`apiVersion: audit.k8s.io/v1\nkind: Policy\n${yaml}`, "policy.yaml");
  if (!doc) throw new Error("no document");
  return parsePolicy(doc);
}

function parseError(yaml: string): string {
  try {
    policy(yaml);
  } catch (e) {
    expect(e).toBeInstanceOf(ParseError);
    return (e as ParseError).message;
  }
  throw new Error("expected a ParseError");
}

const ann = { username: "ann@example.com", groups: ["humans", "developers"] };
const robot = {
  username: "system:serviceaccount:ci:deployer",
  groups: ["system:serviceaccounts", "system:serviceaccounts:ci"],
};

const req: Record<string, RequestAttributes> = {
  getPod: {
    kind: "resource",
    user: ann,
    verb: "get",
    namespace: "default",
    apiGroup: "",
    apiVersion: "v1",
    resource: "pods",
    subresource: "",
    name: "web",
  },
  podLog: {
    kind: "resource",
    user: ann,
    verb: "get",
    namespace: "default",
    apiGroup: "",
    apiVersion: "v1",
    resource: "pods",
    subresource: "log",
    name: "web",
  },
  getEditRole: {
    kind: "resource",
    user: ann,
    verb: "get",
    namespace: "",
    apiGroup: "rbac.authorization.k8s.io",
    apiVersion: "v1",
    resource: "clusterroles",
    subresource: "",
    name: "edit",
  },
  getAdminRole: {
    kind: "resource",
    user: ann,
    verb: "get",
    namespace: "",
    apiGroup: "rbac.authorization.k8s.io",
    apiVersion: "v1",
    resource: "clusterroles",
    subresource: "",
    name: "admin",
  },
  scaleDeploy: {
    kind: "resource",
    user: robot,
    verb: "update",
    namespace: "ci",
    apiGroup: "apps",
    apiVersion: "v1",
    resource: "deployments",
    subresource: "scale",
    name: "d",
  },
  logs: { kind: "nonResource", user: ann, verb: "get", path: "/logs/kubelet.log" },
  metrics: { kind: "nonResource", user: robot, verb: "get", path: "/metrics" },
};

// Each rule on its own, named so tables can compose policies in order.
const R: Record<string, string> = {
  everything: "- level: Metadata",
  creates: "- level: Request\n  verbs: [create]",
  ann: "- level: Metadata\n  users: [ann@example.com]",
  humans: "- level: Metadata\n  userGroups: [humans]",
  serviceAccounts: "- level: Request\n  userGroups: [system:serviceaccounts]",
  getPods: "- level: RequestResponse\n  verbs: [get]\n  resources: [{resources: [pods]}]",
  getPodLogs: "- level: Request\n  verbs: [get]\n  resources: [{resources: [pods/log]}]",
  anyResource: "- level: Request\n  resources: [{resources: ['*']}]",
  anyLogSub: "- level: Request\n  resources: [{resources: ['*/log']}]",
  podsSlashStar: "- level: Request\n  resources: [{resources: ['pods/*']}]",
  coreGroup: "- level: Request\n  resources: [{group: ''}]",
  clusterRoles:
    "- level: RequestResponse\n  verbs: [get]\n  resources: [{group: rbac.authorization.k8s.io, resources: [clusterroles]}]\n  namespaces: ['']",
  editRole:
    "- level: Request\n  resources: [{group: rbac.authorization.k8s.io, resources: [clusterroles], resourceNames: [edit]}]",
  inDefault: "- level: Request\n  namespaces: [default]",
  logsPrefix: "- level: RequestResponse\n  verbs: [get]\n  nonResourceURLs: ['/logs*']",
  metricsExact: "- level: Request\n  nonResourceURLs: [/metrics]",
  anyUrl: "- level: Request\n  nonResourceURLs: ['*']",
};

function rules(...names: string[]): string {
  return "rules:\n" + names.map((n) => R[n]).join("\n");
}

describe("evaluatePolicy: the first matching rule wins, no match is None", () => {
  const table: [request: string, rules: string[], level: string][] = [
    ["getPod", ["everything"], "Metadata"],
    ["getPod", ["creates"], "None"],
    ["getPod", ["ann"], "Metadata"],
    ["getPod", ["humans"], "Metadata"],
    ["getPod", ["serviceAccounts"], "None"],
    ["getPod", ["getPods"], "RequestResponse"],
    ["getPod", ["clusterRoles"], "None"],
    ["getPod", ["logsPrefix"], "None"],
    ["getPod", ["metricsExact", "serviceAccounts", "everything"], "Metadata"],
    ["getPod", ["metricsExact", "getPods", "everything"], "RequestResponse"],
    ["getPod", ["getPodLogs", "getPods"], "RequestResponse"],
    ["getPod", ["anyResource"], "Request"],
    ["getPod", ["anyLogSub"], "None"],
    ["getPod", ["podsSlashStar"], "Request"], // "pods/*" also matches pods itself, as upstream compares
    ["getPod", ["coreGroup"], "Request"],
    ["getPod", ["inDefault"], "Request"],
    ["getPod", ["anyUrl"], "None"],
    ["podLog", ["getPodLogs", "getPods"], "Request"],
    ["podLog", ["getPods"], "None"], // "pods" does not match the log subresource
    ["podLog", ["anyResource"], "Request"],
    ["podLog", ["anyLogSub"], "Request"],
    ["podLog", ["podsSlashStar"], "Request"],
    ["getEditRole", ["everything"], "Metadata"],
    ["getEditRole", ["getPods"], "None"],
    ["getEditRole", ["clusterRoles"], "RequestResponse"],
    ["getEditRole", ["editRole", "clusterRoles"], "Request"],
    ["getAdminRole", ["editRole", "clusterRoles"], "RequestResponse"],
    ["getEditRole", ["coreGroup"], "None"],
    ["getEditRole", ["inDefault"], "None"],
    ["getEditRole", ["getPodLogs", "getPods"], "None"],
    ["scaleDeploy", ["humans", "serviceAccounts"], "Request"],
    ["scaleDeploy", ["anyLogSub", "podsSlashStar"], "None"],
    ["logs", ["everything"], "Metadata"],
    ["logs", ["creates"], "None"],
    ["logs", ["getPods"], "None"],
    ["logs", ["inDefault"], "None"],
    ["logs", ["logsPrefix"], "RequestResponse"],
    ["logs", ["metricsExact"], "None"],
    ["logs", ["metricsExact", "serviceAccounts", "everything"], "Metadata"],
    ["logs", ["getPodLogs", "getPods"], "None"],
    ["metrics", ["metricsExact"], "Request"],
    ["metrics", ["anyUrl"], "Request"],
    ["metrics", ["logsPrefix"], "None"],
  ];
  it.each(table)("%s with %j → %s", (r, names, level) => {
    expect(evaluatePolicy(policy(rules(...names)), req[r] as RequestAttributes).level).toBe(level);
  });

  it("reports which rule matched", () => {
    expect(
      evaluatePolicy(policy(rules("creates", "getPods", "everything")), req["getPod"] as RequestAttributes)
        .rule,
    ).toBe(1);
    expect(evaluatePolicy(policy(rules("creates")), req["getPod"] as RequestAttributes).rule).toBeUndefined();
  });
});

describe("omitStages and omitManagedFields", () => {
  it("a matching rule omits the union of its stages and the policy's, sorted by name and deduplicated", () => {
    const p = policy(
      "omitStages: [ResponseStarted, RequestReceived]\nrules:\n- level: Request\n  omitStages: [Panic, RequestReceived]",
    );
    expect(evaluatePolicy(p, req["getPod"] as RequestAttributes).omitStages).toEqual([
      "Panic",
      "RequestReceived",
      "ResponseStarted",
    ]);
  });
  it("no match gives level None with only the policy's stages", () => {
    const p = policy(
      "omitStages: [RequestReceived]\nrules:\n- level: Request\n  verbs: [create]\n  omitStages: [Panic]",
    );
    expect(evaluatePolicy(p, req["getPod"] as RequestAttributes)).toEqual({
      level: "None",
      omitStages: ["RequestReceived"],
      omitManagedFields: false,
    });
  });
  const mf: [policyDefault: boolean, rule: boolean | undefined, expected: boolean][] = [
    [false, undefined, false],
    [true, undefined, true],
    [true, false, false],
    [false, true, true],
  ];
  it.each(mf)("policy omitManagedFields=%s with rule %s gives %s", (pd, rule, expected) => {
    const ruleLine = rule === undefined ? "" : `\n  omitManagedFields: ${rule}`;
    const p = policy(`omitManagedFields: ${pd}\nrules:\n- level: RequestResponse${ruleLine}`);
    expect(evaluatePolicy(p, req["getPod"] as RequestAttributes).omitManagedFields).toBe(expected);
  });
  it("no match falls back to the policy's omitManagedFields", () => {
    const p = policy(
      "omitManagedFields: true\nrules:\n- level: Request\n  verbs: [create]\n  omitManagedFields: false",
    );
    expect(evaluatePolicy(p, req["getPod"] as RequestAttributes).omitManagedFields).toBe(true);
  });
});

describe("parsePolicy refuses what kube-apiserver refuses, naming the field", () => {
  const cases: [yaml: string, message: RegExp][] = [
    ["rules: []", /a policy with 0 rules is refused/],
    ["omitStages: [RequestReceived]", /a policy with 0 rules is refused/],
    ["rules:\n- users: [a]", /rules\[0\]\.level: Required value/],
    [
      "rules:\n- level: Everything",
      /rules\[0\]\.level: Unsupported value: "Everything": supported values: "None", "Metadata", "Request", "RequestResponse"/,
    ],
    ["rules:\n- level: None\n- level: metadata", /rules\[1\]\.level: Unsupported value: "metadata"/],
    [
      "rules:\n- level: Request\n  nonResourceURLs: [metrics]",
      /rules\[0\]\.nonResourceURLs\[0\]: Invalid value: "metrics": non-resource URL rules must begin with a '\/' character/,
    ],
    ["rules:\n- level: Request\n  nonResourceURLs: ['/a*/b']", /wildcards '\*' must be the final character/],
    [
      "rules:\n- level: Request\n  nonResourceURLs: [/x]\n  namespaces: [a]",
      /rules cannot apply to both regular resources and non-resource URLs/,
    ],
    [
      "rules:\n- level: Request\n  resources: [{group: apps/v1}]",
      /rules\[0\]\.resources\[0\]\.group: Invalid value: "apps\/v1"/,
    ],
    [
      "rules:\n- level: Request\n  resources: [{resourceNames: [x]}]",
      /using resourceNames requires at least one resource/,
    ],
    [
      "rules:\n- level: Request\n  omitStages: [Done]",
      /rules\[0\]\.omitStages\[0\]: Invalid value: "Done": allowed stages are RequestReceived,ResponseStarted,ResponseComplete,Panic/,
    ],
    ["omitStages: [Later]\nrules:\n- level: Request", /omitStages\[0\]: Invalid value: "Later"/],
    ["rules:\n- level: Request\n  namespace: [default]", /rules\[0\]\.namespace: unknown field/],
    ["rules:\n- level: Request\n  verbs: get", /rules\[0\]\.verbs: must be a list of strings/],
    [
      "rules:\n- level: Request\n  omitManagedFields: yes please",
      /rules\[0\]\.omitManagedFields: must be true or false/,
    ],
    ["rules: {level: Request}", /rules: must be a list/],
  ];
  it.each(cases)("%j", (yaml, message) => {
    expect(parseError(yaml)).toMatch(message);
  });
  it("names the file and document, and lists every problem at once", () => {
    const msg = parseError("rules:\n- level: Bad\n- level: Request\n  omitStages: [Never]");
    expect(msg).toMatch(/^policy\.yaml document 1/);
    expect(msg).toMatch(/rules\[0\]\.level/);
    expect(msg).toMatch(/rules\[1\]\.omitStages\[0\]/);
  });
  it("refuses another kind or version", () => {
    const [doc] = parseObjects(
      "apiVersion: audit.k8s.io/v1beta1\nkind: Policy\nrules: [{level: None}]",
      "p.yaml",
    );
    expect(() => parsePolicy(doc as never)).toThrow(/expected apiVersion audit.k8s.io\/v1, kind Policy/);
  });
  it("accepts kube-apiserver's documented example fields and freezes the result", () => {
    const p = policy(
      "metadata: {name: p}\nomitStages: [RequestReceived]\nrules:\n- level: RequestResponse\n  resources:\n  - group: ''\n    resources: [pods]\n- level: Metadata\n  resources:\n  - group: ''\n    resources: [pods/log, pods/status]\n- level: None\n  users: [system:kube-proxy]\n  verbs: [watch]\n  resources: [{group: '', resources: [endpoints, services]}]\n- level: None\n  userGroups: [system:authenticated]\n  nonResourceURLs: [/api*, /version]",
    );
    expect(p.rules).toHaveLength(4);
    expect(Object.isFrozen(p)).toBe(true);
    expect(Object.isFrozen(p.rules)).toBe(true);
  });
});

describe("pathMatches", () => {
  const cases: [string, string, boolean][] = [
    ["/metrics", "/metrics", true],
    ["/metrics/x", "/metrics", false],
    ["/healthz/etcd", "/healthz*", true],
    ["/healthz", "/healthz*", true],
    ["/health", "/healthz*", false],
    ["/anything", "*", true],
    ["/apis/apps", "/api*", true],
    ["/api", "/api/*", false],
  ];
  it.each(cases)("%s against %s → %s", (p, spec, ok) => expect(pathMatches(p, spec)).toBe(ok));
});

describe("policyForCluster", () => {
  const global = policy(rules("everything"));
  const strict = policy(rules("getPods"));
  it("prefers the cluster's own policy, then the global one, then the default", () => {
    expect(policyForCluster({ global, clusters: { prod: strict } }, "prod")).toBe(strict);
    expect(policyForCluster({ global, clusters: { prod: strict } }, "dev")).toBe(global);
    expect(policyForCluster({}, "dev")).toBe(DEFAULT_POLICY);
    expect(policyForCluster({ global, clusters: {} }, "constructor")).toBe(global);
  });
  it("the default policy records every request at Metadata", () => {
    fc.assert(
      fc.property(fc.constantFrom(...Object.values(req)), (r) => {
        expect(evaluatePolicy(DEFAULT_POLICY, r).level).toBe("Metadata");
      }),
    );
  });
});
