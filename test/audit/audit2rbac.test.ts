import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseObjects } from "../../src/core/k8s/index.js";
import { parseRbacObjects, type Role } from "../../src/core/rbac/index.js";
import { VERSION } from "../../src/version.js";
import { REPO, runCli } from "./run-cli.js";

const DEMO = join(REPO, "test/fixtures/audit2rbac-demo.log.jsonl");
const dir = mkdtempSync(join(tmpdir(), "gatehouse-audit2rbac-"));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** Golden files hold audit2rbac's ${version} placeholder where the Gatehouse version goes. */
function golden(name: string): string {
  return readFileSync(join(REPO, "test/audit/golden", name), "utf8").replaceAll("${version}", VERSION);
}

/** The output must be what `kubectl apply -f` takes: valid RBAC objects. */
function asRbac(yaml: string) {
  return parseRbacObjects(parseObjects(yaml, "out.yaml")).map((o) => o.object);
}

describe("audit2rbac on liggitt/audit2rbac's demo log", () => {
  // alice listed pods, configmaps and secrets in ns1 only (all refused). One namespace, no names:
  // a Role in ns1 with list expanded to get and watch (audit2rbac's verb expansion), the three
  // resources merged into one rule because they share verbs and group, bound to alice by a
  // RoleBinding. This is the output shown in audit2rbac's README.
  it("alice gets a Role in ns1 for what she listed there", async () => {
    const r = await runCli(["audit2rbac", "-f", DEMO, "--user", "alice"]);
    expect(r.code).toBe(0);
    expect(r.out).toBe(golden("alice.yaml"));
    expect(r.err).toBe("alice: 3 request(s), 0 already allowed; generated 1 Role, 1 RoleBinding\n");
  });

  // bob listed pods in default and in ns1: the same request in two namespaces widens to the cluster
  // (expand-multi-namespace). He listed nodes, which are cluster-scoped. Both rules share verbs and
  // group, so they merge. His 23 discovery requests (/api, /apis/..., /api/v1) are allowed to every
  // authenticated user by system:discovery and produce nothing.
  it("bob gets a ClusterRole: pods seen in two namespaces, nodes are cluster-scoped, discovery is free", async () => {
    const r = await runCli(["audit2rbac", "-f", DEMO, "--user", "bob"]);
    expect(r.out).toBe(golden("bob.yaml"));
    expect(r.err).toMatch(/bob: 29 request\(s\), 23 already allowed/);
  });

  // ns1:sa1 listed pods in default, nodes, and pods in all namespaces. The all-namespaces list is
  // cluster-scoped and sorts first; its rule then covers the list in default. Named after the
  // service account's short name, bound to the ServiceAccount subject, labelled with the full
  // username sanitised.
  it("the service account ns1:sa1 gets a ClusterRole bound to the ServiceAccount", async () => {
    const r = await runCli(["audit2rbac", "-f", DEMO, "--serviceaccount", "ns1:sa1"]);
    expect(r.out).toBe(golden("sa1.yaml"));
  });

  it("does several users in one run, and explains every rule with the requests behind it", async () => {
    const r = await runCli([
      "audit2rbac",
      "-f",
      DEMO,
      "--user",
      "alice",
      "--user",
      "bob",
      "--serviceaccount",
      "ns1:sa1",
      "--explain",
    ]);
    expect(r.out).toBe(golden("all-explained.yaml"));
    expect(r.out).toMatch(
      /# allows: list \/api\/v1\/namespaces\/ns1\/secrets \(1 request; first 2017-09-11T20:29:04Z, auditID 4b814005-0bfa-4756-bf3e-3750de5b8769, 403\)/,
    );
    expect(asRbac(r.out).map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      "Role/audit2rbac:alice",
      "RoleBinding/audit2rbac:alice",
      "ClusterRole/audit2rbac:bob",
      "ClusterRoleBinding/audit2rbac:bob",
      "ClusterRole/audit2rbac:sa1",
      "ClusterRoleBinding/audit2rbac:sa1",
    ]);
  });

  it("prints a kind: List with -o json", async () => {
    const r = await runCli(["audit2rbac", "-f", DEMO, "--user", "alice", "-o", "json", "--explain"]);
    const list = JSON.parse(r.out) as { kind: string; items: { kind: string }[] };
    expect(list.kind).toBe("List");
    expect(list.items.map((i) => i.kind)).toEqual(["Role", "RoleBinding"]);
    expect(asRbac(r.out)).toHaveLength(2);
    expect(r.err).toMatch(
      /Role ns1\/audit2rbac:alice rule 1:\n {2}allows: list \/api\/v1\/namespaces\/ns1\/pods/,
    );
  });

  it("keeps namespaces apart with --expand-multi-namespace=false", async () => {
    const r = await runCli(["audit2rbac", "-f", DEMO, "--user", "bob", "--expand-multi-namespace=false"]);
    const objs = asRbac(r.out);
    expect(objs.map((o) => `${o.kind}/${o.metadata.namespace ?? ""}`)).toEqual([
      "Role/default",
      "Role/ns1",
      "ClusterRole/",
      "RoleBinding/default",
      "RoleBinding/ns1",
      "ClusterRoleBinding/",
    ]);
    expect((objs[2] as Role).rules).toEqual([
      { apiGroups: [""], resources: ["nodes"], verbs: ["get", "list", "watch"] },
    ]);
  });

  it("filters by namespace and time", async () => {
    const ns = await runCli(["audit2rbac", "-f", DEMO, "--user", "bob", "-n", "ns1"]);
    expect(asRbac(ns.out).map((o) => `${o.kind}/${o.metadata.namespace ?? ""}`)).toEqual([
      "Role/ns1",
      "RoleBinding/ns1",
    ]);
    const late = await runCli(["audit2rbac", "-f", DEMO, "--user", "bob", "--since", "2017-09-11T20:27:00Z"]);
    expect(late.err).toMatch(/bob: 25 request\(s\)/);
  });

  it("uses custom names, labels and annotations", async () => {
    const r = await runCli([
      "audit2rbac",
      "-f",
      DEMO,
      "--user",
      "alice",
      "--generate-name",
      "from-audit:${user}",
      "--generate-labels",
      "team=a,who=${user}",
      "--generate-annotations",
      "note=x",
    ]);
    const [role] = asRbac(r.out);
    expect(role?.metadata).toEqual({
      annotations: { note: "x" },
      labels: { team: "a", who: "alice" },
      name: "from-audit:alice",
      namespace: "ns1",
    });
  });
});

describe("audit2rbac with existing RBAC objects", () => {
  const existing = file(
    "existing.yaml",
    `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pod-reader, namespace: ns1}
rules:
- {apiGroups: [""], resources: [pods], verbs: [get, list, watch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: alice-reads-pods, namespace: ns1}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: alice}
`,
  );

  it("emits only what is missing", async () => {
    const r = await runCli(["audit2rbac", "-f", DEMO, "--user", "alice", "--existing", existing]);
    const [role] = asRbac(r.out) as Role[];
    expect(role?.rules).toEqual([
      { apiGroups: [""], resources: ["configmaps", "secrets"], verbs: ["get", "list", "watch"] },
    ]);
    expect(r.err).toMatch(/alice: 3 request\(s\), 1 already allowed/);
  });

  it("emits nothing when the existing objects already allow everything, e.g. its own earlier output", async () => {
    const earlier = file("earlier.yaml", golden("all-explained.yaml"));
    const r = await runCli([
      "audit2rbac",
      "-f",
      DEMO,
      "--user",
      "alice",
      "--user",
      "bob",
      "--existing",
      earlier,
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toBe("");
    expect(r.err).toMatch(/alice: 3 request\(s\), 3 already allowed; nothing to generate/);
  });

  it("keeps the rules of an existing role with the generated name, so applying only adds", async () => {
    const same = file(
      "same-name.yaml",
      `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: "audit2rbac:alice", namespace: ns1}
rules:
- {apiGroups: [""], resources: [pods], verbs: [list]}
`,
    );
    const r = await runCli(["audit2rbac", "-f", DEMO, "--user", "alice", "--existing", same]);
    const [role] = asRbac(r.out) as Role[];
    expect(role?.rules).toEqual([
      { apiGroups: [""], resources: ["configmaps", "pods", "secrets"], verbs: ["get", "list", "watch"] },
      { apiGroups: [""], resources: ["pods"], verbs: ["list"] },
    ]);
    expect(r.err).toMatch(
      /note: Role ns1\/audit2rbac:alice exists: its 1 rule\(s\) are kept after the new ones/,
    );
  });

  it("refuses to overwrite a binding of the same name that refers to another role", async () => {
    const clash = file(
      "clash.yaml",
      `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: "audit2rbac:alice", namespace: ns1}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: admin}
subjects: [{kind: Group, name: admins, apiGroup: rbac.authorization.k8s.io}]
`,
    );
    const r = await runCli(["audit2rbac", "-f", DEMO, "--user", "alice", "--existing", clash]);
    expect(r.code).toBe(2);
    expect(r.out).toBe("");
    expect(r.err).toMatch(/RoleBinding ns1\/audit2rbac:alice exists and refers to ClusterRole admin/);
  });

  it("refuses invalid RBAC objects, naming the file", async () => {
    const bad = file(
      "bad-rbac.yaml",
      "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: x, namespace: a}\nrules: [{resources: [pods]}]\n",
    );
    const r = await runCli(["audit2rbac", "-f", DEMO, "--user", "alice", "--existing", bad]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/bad-rbac\.yaml document 1/);
  });
});

describe("audit2rbac refuses bad usage", () => {
  const cases: [string, string[], number, RegExp][] = [
    ["no -f (the Gatehouse store is not wired yet)", ["--user", "alice"], 2, /-f is required/],
    ["no user", ["-f", DEMO], 2, /--user or --serviceaccount is required/],
    [
      "a malformed service account",
      ["-f", DEMO, "--serviceaccount", "sa1"],
      2,
      /expected <namespace>:<name>/,
    ],
    [
      "--cluster with -f",
      ["-f", DEMO, "--user", "bob", "--cluster", "prod"],
      2,
      /--cluster selects events in the Gatehouse store/,
    ],
    [
      "a bad --since",
      ["-f", DEMO, "--user", "bob", "--since", "yesterday"],
      2,
      /invalid --since "yesterday"/,
    ],
    [
      "a bad boolean",
      ["-f", DEMO, "--user", "bob", "--expand-multi-name=maybe"],
      2,
      /expected true or false/,
    ],
    [
      "one name for several users",
      ["-f", DEMO, "--user", "bob", "--user", "alice", "--generate-name", "fixed"],
      2,
      /must contain \$\{user\}/,
    ],
    ["a user with no events", ["-f", DEMO, "--user", "carol"], 1, /no audit events matched user carol/],
    ["a missing log", ["-f", join(dir, "missing.log"), "--user", "bob"], 2, /missing\.log: cannot read/],
  ];
  it.each(cases)("%s", async (_what, args, code, message) => {
    const r = await runCli(["audit2rbac", ...args]);
    expect(r.code).toBe(code);
    expect(r.out).toBe("");
    expect(r.err).toMatch(message);
  });

  it("names the file and line of an event that is not an audit event", async () => {
    const log = file(
      "mixed.log",
      readFileSync(DEMO, "utf8").split("\n").slice(0, 2).join("\n") + '\n{"apiVersion":"v1","kind":"Pod"}\n',
    );
    const r = await runCli(["audit2rbac", "-f", log, "--user", "bob"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /mixed\.log document 3 \(line 3\): expected apiVersion audit\.k8s\.io\/v1, kind Event/,
    );
  });

  it("reads an EventList in YAML", async () => {
    const events = readFileSync(DEMO, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as unknown);
    const list = file(
      "list.json",
      JSON.stringify({ apiVersion: "audit.k8s.io/v1", kind: "EventList", items: events }),
    );
    const r = await runCli(["audit2rbac", "-f", list, "--user", "alice"]);
    expect(r.out).toBe(golden("alice.yaml"));
  });
});
