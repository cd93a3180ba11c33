import { describe, expect, it } from "vitest";
import { parseObjects, ParseError } from "../k8s/objects.js";
import { parseRbacObjects } from "./parse.js";

function parse(yaml: string) {
  return parseRbacObjects(parseObjects(yaml, "policy.yaml")).map((o) => o.object);
}

function parseError(yaml: string): ParseError {
  try {
    parse(yaml);
  } catch (e) {
    if (e instanceof ParseError) return e;
    throw e;
  }
  throw new Error("expected a ParseError");
}

const binding = (extra: string) => `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: b}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: r}
${extra}`;

describe("reading RBAC objects", () => {
  it("reads the four kinds and skips other objects", () => {
    const objs = parse(`
apiVersion: v1
kind: ConfigMap
metadata: {name: c}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: r, namespace: web}
rules: [{verbs: [get], apiGroups: [""], resources: [pods]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: c, labels: {a: b}}
rules: [{verbs: [get], nonResourceURLs: [/healthz]}]
---
apiVersion: rbac.authorization.k8s.io/v1beta1
kind: RoleBinding
metadata: {name: rb, namespace: web}
roleRef: {kind: Role, name: r}
subjects: [{kind: User, name: alice}, {kind: ServiceAccount, name: sa}]
`);
    expect(objs.map((o) => o.kind)).toEqual(["Role", "ClusterRole", "RoleBinding"]);
    const rb = objs[2];
    if (rb?.kind !== "RoleBinding") throw new Error("expected a RoleBinding");
    expect(rb.roleRef).toEqual({ apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "r" });
    expect(rb.subjects).toEqual([
      { kind: "User", name: "alice", apiGroup: "rbac.authorization.k8s.io" },
      { kind: "ServiceAccount", name: "sa", apiGroup: "" },
    ]);
  });

  it("reads kind: List and typed lists as kubectl get -o yaml prints them", () => {
    const objs = parse(`
apiVersion: v1
kind: List
items:
- apiVersion: rbac.authorization.k8s.io/v1
  kind: ClusterRole
  metadata: {name: a}
  rules: []
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleList
items:
- metadata: {name: b}
`);
    expect(objs.map((o) => o.metadata.name)).toEqual(["a", "b"]);
  });

  it("puts a Role without a namespace in the default namespace, as kubectl apply would", () => {
    const [r] = parse(`{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"r"}}`);
    expect(r?.metadata.namespace).toBe("default");
  });

  it("refuses an unknown apiVersion for an RBAC kind, naming file, document and line", () => {
    const e = parseError(`apiVersion: v1
kind: ConfigMap
---
apiVersion: rbac.authorization.k8s.io/v2
kind: Role
metadata: {name: r}
`);
    expect(e.message).toBe(
      'policy.yaml document 2 (line 4): unknown apiVersion "rbac.authorization.k8s.io/v2"; expected rbac.authorization.k8s.io/v1',
    );
  });

  it("refuses an RBAC kind without the rbac group, but leaves a Role kind of another API group alone", () => {
    expect(parseError("apiVersion: v1\nkind: ClusterRole\nmetadata: {name: x}\n").message).toMatch(
      /unknown apiVersion "v1"/,
    );
    expect(parse("apiVersion: iam.example.com/v1\nkind: Role\nmetadata: {name: x}\n")).toEqual([]);
  });

  it("refuses the removed v1alpha1 and unknown kinds in the rbac group", () => {
    expect(parseError("apiVersion: rbac.authorization.k8s.io/v1alpha1\nkind: Role\n").message).toMatch(
      /v1alpha1/,
    );
    expect(parseError("apiVersion: rbac.authorization.k8s.io/v1\nkind: Rolebinding\n").message).toMatch(
      /unknown kind "Rolebinding"/,
    );
  });

  it("refuses a rule with an empty verbs list", () => {
    const e = parseError(`apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: r}
rules:
- apiGroups: [""]
  resources: [pods]
  verbs: []
`);
    expect(e.message).toBe(
      'policy.yaml document 1 (line 1): ClusterRole "r" is invalid: rules[0].verbs: Required value: verbs must contain at least one value',
    );
  });

  it.each([
    [
      "a Role naming non-resource URLs",
      "kind: Role\nmetadata: {name: r, namespace: n}\nrules: [{verbs: [get], nonResourceURLs: [/x]}]",
      /namespaced rules cannot apply to non-resource URLs/,
    ],
    [
      "a rule mixing resources and URLs",
      "kind: ClusterRole\nmetadata: {name: r}\nrules: [{verbs: [get], resources: [pods], nonResourceURLs: [/x]}]",
      /both regular resources and non-resource URLs/,
    ],
    [
      "a resource rule without apiGroups",
      "kind: ClusterRole\nmetadata: {name: r}\nrules: [{verbs: [get], resources: [pods]}]",
      /must supply at least one api group/,
    ],
    [
      "a resource rule without resources",
      "kind: ClusterRole\nmetadata: {name: r}\nrules: [{verbs: [get], apiGroups: ['']}]",
      /must supply at least one resource/,
    ],
    [
      "verbs that are not strings",
      "kind: ClusterRole\nmetadata: {name: r}\nrules: [{verbs: [1], apiGroups: [''], resources: [p]}]",
      /verbs: must be a list of strings/,
    ],
    ["an object without a name", "kind: ClusterRole\nmetadata: {}", /metadata.name: Required value/],
    ["a name with a slash", "kind: ClusterRole\nmetadata: {name: a/b}", /may not contain '\/'/],
    [
      "an aggregationRule without selectors",
      "kind: ClusterRole\nmetadata: {name: r}\naggregationRule: {}",
      /at least one clusterRoleSelector required/,
    ],
    [
      "an invalid selector",
      "kind: ClusterRole\nmetadata: {name: r}\naggregationRule: {clusterRoleSelectors: [{matchExpressions: [{key: a, operator: In}]}]}",
      /values: must be specified/,
    ],
  ])("refuses %s", (_name, body, message) => {
    expect(parseError(`apiVersion: rbac.authorization.k8s.io/v1\n${body}\n`).message).toMatch(message);
  });

  it.each([
    [
      "a ClusterRoleBinding to a Role",
      "kind: ClusterRoleBinding\nmetadata: {name: b}\nroleRef: {kind: Role, name: r}",
      /roleRef.kind: Unsupported value: "Role"/,
    ],
    [
      "a binding without a roleRef",
      "kind: RoleBinding\nmetadata: {name: b, namespace: n}",
      /roleRef: Required value/,
    ],
    [
      "a roleRef in another API group",
      "kind: RoleBinding\nmetadata: {name: b, namespace: n}\nroleRef: {apiGroup: x.io, kind: Role, name: r}",
      /roleRef.apiGroup: Unsupported value/,
    ],
    [
      "an unknown subject kind",
      "kind: RoleBinding\nmetadata: {name: b, namespace: n}\nroleRef: {kind: Role, name: r}\nsubjects: [{kind: Robot, name: r2}]",
      /subjects\[0\].kind: Unsupported value: "Robot"/,
    ],
    [
      "a ServiceAccount without a namespace in a ClusterRoleBinding",
      "kind: ClusterRoleBinding\nmetadata: {name: b}\nroleRef: {kind: ClusterRole, name: r}\nsubjects: [{kind: ServiceAccount, name: sa}]",
      /subjects\[0\].namespace: Required value/,
    ],
    [
      "a User subject in another API group",
      "kind: ClusterRoleBinding\nmetadata: {name: b}\nroleRef: {kind: ClusterRole, name: r}\nsubjects: [{kind: User, name: u, apiGroup: x}]",
      /subjects\[0\].apiGroup: Unsupported value: "x"/,
    ],
    [
      "a subject without a name",
      "kind: ClusterRoleBinding\nmetadata: {name: b}\nroleRef: {kind: ClusterRole, name: r}\nsubjects: [{kind: Group}]",
      /subjects\[0\].name: Required value/,
    ],
  ])("refuses %s", (_name, body, message) => {
    expect(parseError(`apiVersion: rbac.authorization.k8s.io/v1\n${body}\n`).message).toMatch(message);
  });

  it("collects every error of an object in one message", () => {
    const e = parseError(binding("subjects: [{kind: Robot, name: a}, {kind: Group}]"));
    expect(e.message).toMatch(/subjects\[0\].kind.*; subjects\[1\].name/);
  });
});
