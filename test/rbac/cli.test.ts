import { mkdtempSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildProgram } from "../../src/cli/program.js";
import { CliError, NegativeAnswer } from "../../src/cli/errors.js";
import { gatehouse } from "../cli/run.js";

const POLICY = `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: pod-reader, labels: {rbac.example.com/aggregate-to-view: "true"}}
rules:
- {apiGroups: [""], resources: [pods, pods/log], verbs: [get, list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: view}
aggregationRule:
  clusterRoleSelectors: [{matchLabels: {rbac.example.com/aggregate-to-view: "true"}}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: viewers}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects: [{kind: Group, name: dev, apiGroup: rbac.authorization.k8s.io}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: not-rbac}
`;

const MORE = `{"apiVersion":"v1","kind":"List","items":[
 {"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"deployer","namespace":"web"},
  "rules":[{"apiGroups":["apps"],"resources":["deployments"],"verbs":["get","update"]},
           {"apiGroups":["rbac.authorization.k8s.io"],"resources":["rolebindings","roles"],"verbs":["create","patch"]}]},
 {"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"ci","namespace":"web"},
  "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"deployer"},
  "subjects":[{"kind":"ServiceAccount","name":"builder"}]}]}`;

function fixture(): string {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-rbac-cli-"));
  mkdirSync(join(dir, "policy", "nested"), { recursive: true });
  writeFileSync(join(dir, "policy", "cluster.yaml"), POLICY);
  writeFileSync(join(dir, "policy", "nested", "web.json"), MORE);
  return dir;
}

const sar = (spec: object) =>
  JSON.stringify({ apiVersion: "authorization.k8s.io/v1", kind: "SubjectAccessReview", spec });

async function run(args: string[]): Promise<{ out: string; err: string; error?: unknown }> {
  let out = "";
  let err = "";
  const program = buildProgram({ out: (t) => void (out += t), err: (t) => void (err += t) });
  try {
    await program.parseAsync(["node", "gatehouse", ...args]);
    return { out, err };
  } catch (error) {
    return { out, err, error };
  }
}

describe("gatehouse rbac review", () => {
  it("answers each SubjectAccessReview in input order, as one JSON object per line", async () => {
    const dir = fixture();
    const reviews = join(dir, "reviews.jsonl");
    writeFileSync(
      reviews,
      [
        sar({
          user: "alice",
          groups: ["dev"],
          resourceAttributes: { verb: "get", resource: "pods", subresource: "log", namespace: "x" },
        }),
        sar({
          user: "system:serviceaccount:web:builder",
          resourceAttributes: { verb: "update", group: "apps", resource: "deployments", namespace: "web" },
        }),
        sar({ user: "alice", nonResourceAttributes: { verb: "get", path: "/healthz" } }),
      ].join("\n"),
    );
    const r = await run(["rbac", "review", "--objects", join(dir, "policy"), "--reviews", reviews]);
    expect(r.error).toBeUndefined();
    const lines = r.out
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as { status: unknown; spec: unknown });
    expect(lines.map((l) => l.status)).toEqual([
      {
        allowed: true,
        reason: 'RBAC: allowed by ClusterRoleBinding "viewers" of ClusterRole "view" to Group "dev"',
      },
      {
        allowed: true,
        reason: 'RBAC: allowed by RoleBinding "ci/web" of Role "deployer" to ServiceAccount "builder/web"',
      },
      { allowed: false },
    ]);
    expect(lines[0]?.spec).toMatchObject({ user: "alice" });
  });

  it("prints YAML documents with -o yaml and reads multi-document YAML reviews", async () => {
    const dir = fixture();
    const reviews = join(dir, "reviews.yaml");
    writeFileSync(
      reviews,
      "apiVersion: authorization.k8s.io/v1\nkind: SubjectAccessReview\nspec: {user: bob, resourceAttributes: {verb: get, resource: pods}}\n---\n" +
        "apiVersion: authorization.k8s.io/v1\nkind: SubjectAccessReview\nspec: {groups: [dev], resourceAttributes: {verb: list, resource: pods}}\n",
    );
    const r = await run([
      "rbac",
      "review",
      "--objects",
      join(dir, "policy"),
      "--reviews",
      reviews,
      "-o",
      "yaml",
    ]);
    expect(r.out.match(/^---$/gm)).toHaveLength(2);
    expect(r.out).toContain("allowed: false");
    expect(r.out).toContain("allowed: true");
  });

  it("refuses a review with neither resource nor non-resource attributes, naming file and document, printing nothing", async () => {
    const dir = fixture();
    const reviews = join(dir, "bad.jsonl");
    writeFileSync(
      reviews,
      [sar({ user: "a", resourceAttributes: { verb: "get", resource: "pods" } }), sar({ user: "a" })].join(
        "\n",
      ),
    );
    const r = await run(["rbac", "review", "--objects", join(dir, "policy"), "--reviews", reviews]);
    expect(r.error).toBeInstanceOf(CliError);
    expect((r.error as CliError).exitCode).toBe(2);
    expect((r.error as Error).message).toBe(
      `${reviews} document 2 (line 2): spec: exactly one of nonResourceAttributes or resourceAttributes must be specified`,
    );
    expect(r.out).toBe("");
  });
});

describe("gatehouse rbac can-i, who-can, rules", () => {
  it("can-i says yes, or no with exit 1, for the impersonated user and its groups", async () => {
    const dir = fixture();
    const yes = await run([
      "rbac",
      "can-i",
      "list",
      "pods",
      "--as",
      "alice",
      "--as-group",
      "dev",
      "--objects",
      join(dir, "policy"),
    ]);
    expect(yes.out).toBe("yes\n");
    const no = await run([
      "rbac",
      "can-i",
      "delete",
      "pods",
      "--as",
      "alice",
      "--as-group",
      "dev",
      "--objects",
      join(dir, "policy"),
    ]);
    expect(no.out).toBe("no\n");
    expect(no.error).toBeInstanceOf(NegativeAnswer);
  });

  it("can-i treats a service account user as impersonation does and takes RESOURCE.GROUP/NAME", async () => {
    const dir = fixture();
    const r = await run([
      "rbac",
      "can-i",
      "update",
      "deployments.apps/api",
      "-n",
      "web",
      "--as",
      "system:serviceaccount:web:builder",
      "--objects",
      join(dir, "policy"),
      "-o",
      "json",
    ]);
    const review = JSON.parse(r.out) as {
      spec: { groups: string[]; resourceAttributes: object };
      status: object;
    };
    expect(review.spec.groups).toEqual([
      "system:serviceaccounts",
      "system:serviceaccounts:web",
      "system:authenticated",
    ]);
    expect(review.spec.resourceAttributes).toEqual({
      namespace: "web",
      verb: "update",
      group: "apps",
      resource: "deployments",
      name: "api",
    });
    expect(review.status).toMatchObject({ allowed: true });
  });

  it("who-can lists RoleBinding and ClusterRoleBinding subjects like kubectl who-can", async () => {
    const dir = fixture();
    const r = await run(["rbac", "who-can", "get", "pods", "-n", "web", "--objects", join(dir, "policy")]);
    expect(r.out).toBe(
      "No subjects found with permissions to get pods assigned through RoleBindings\n\n" +
        "CLUSTERROLEBINDING   SUBJECT   TYPE    SA-NAMESPACE\nviewers              dev       Group\n",
    );
    const d = await run([
      "rbac",
      "who-can",
      "update",
      "deployments.apps",
      "-n",
      "web",
      "--objects",
      join(dir, "policy"),
      "-o",
      "json",
    ]);
    const doc = JSON.parse(d.out) as { subjects: { name: string }[] };
    expect(doc.subjects.map((s) => s.name)).toEqual(["system:masters", "builder"]);
  });

  it("rules prints the kubectl auth can-i --list table", async () => {
    const dir = fixture();
    const r = await run([
      "rbac",
      "rules",
      "--as",
      "system:serviceaccount:web:builder",
      "-n",
      "web",
      "--objects",
      join(dir, "policy"),
    ]);
    expect(r.out).toBe(
      [
        "Resources                                Non-Resource URLs   Resource Names   Verbs",
        "rolebindings.rbac.authorization.k8s.io   []                  []               [create patch]",
        "roles.rbac.authorization.k8s.io          []                  []               [create patch]",
        "deployments.apps                         []                  []               [get update]",
        "",
      ].join("\n"),
    );
  });
});

describe("gatehouse rbac can-grant", () => {
  it("accepts objects whose rules the user holds and refuses the rest with the rules not held", async () => {
    const dir = fixture();
    const file = join(dir, "change.yaml");
    writeFileSync(
      file,
      `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: small, namespace: web}
rules: [{apiGroups: [apps], resources: [deployments], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: big, namespace: web}
rules: [{apiGroups: ["", apps], resources: [deployments, secrets], verbs: [get]}]
`,
    );
    const args = [
      "rbac",
      "can-grant",
      "--as",
      "system:serviceaccount:web:builder",
      "--objects",
      join(dir, "policy"),
      "-f",
      file,
    ];
    const r = await run([...args, "-o", "json"]);
    expect(r.error).toBeInstanceOf(NegativeAnswer);
    const verdicts = r.out
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as object);
    expect(verdicts).toEqual([
      {
        object: {
          apiVersion: "rbac.authorization.k8s.io/v1",
          kind: "Role",
          metadata: { name: "small", namespace: "web" },
        },
        allowed: true,
        uncovered: [],
        reason: "covered",
      },
      {
        object: {
          apiVersion: "rbac.authorization.k8s.io/v1",
          kind: "Role",
          metadata: { name: "big", namespace: "web" },
        },
        allowed: false,
        uncovered: [
          { verbs: ["get"], apiGroups: [""], resources: ["deployments"] },
          { verbs: ["get"], apiGroups: [""], resources: ["secrets"] },
          { verbs: ["get"], apiGroups: ["apps"], resources: ["secrets"] },
        ],
        reason: expect.stringContaining(
          "is attempting to grant RBAC permissions not currently held",
        ) as unknown,
      },
    ]);
    const text = await run(args);
    expect(text.out).toContain("allowed  Role web/small (covered)\nrefused  Role web/big\n");
    expect(text.out).toContain('  not held: {APIGroups:[""], Resources:["secrets"], Verbs:["get"]}');
  });

  it("refuses when the user may not even create the object", async () => {
    const dir = fixture();
    const file = join(dir, "crb.yaml");
    writeFileSync(
      file,
      "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: tiny}\n",
    );
    const r = await run([
      "rbac",
      "can-grant",
      "--as",
      "system:serviceaccount:web:builder",
      "--objects",
      join(dir, "policy"),
      "-f",
      file,
      "-o",
      "json",
    ]);
    expect(JSON.parse(r.out)).toMatchObject({
      allowed: false,
      reason: expect.stringContaining('cannot create resource "clusterroles"') as unknown,
    });
  });
});

describe("gatehouse rbac aggregate", () => {
  it("prints the aggregated ClusterRoles with their rules filled, as a List", async () => {
    const dir = fixture();
    const r = await run(["rbac", "aggregate", "--objects", join(dir, "policy"), "-o", "json"]);
    const list = JSON.parse(r.out) as {
      kind: string;
      items: { metadata: { name: string }; rules: unknown }[];
    };
    expect(list.kind).toBe("List");
    expect(list.items.map((i) => i.metadata.name)).toEqual(["view"]);
    expect(list.items[0]?.rules).toEqual([
      { verbs: ["get", "list"], apiGroups: [""], resources: ["pods", "pods/log"] },
    ]);
  });
});

describe("gatehouse rbac on bad input (real process)", () => {
  it.each([
    ["malformed YAML", "kind: Role\nmetadata: {name: [\n", /policy\.yaml document 1 \(line \d+\)/],
    [
      "an unknown apiVersion",
      "apiVersion: rbac.authorization.k8s.io/v9\nkind: Role\nmetadata: {name: r}\n",
      /policy\.yaml document 1 \(line 1\): unknown apiVersion/,
    ],
    [
      "a rule with empty verbs",
      "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\nrules: [{apiGroups: [''], resources: [pods], verbs: []}]\n",
      /rules\[0\]\.verbs: Required value/,
    ],
  ])("exits 2 on %s, naming file and document, with nothing on stdout", async (_name, yaml, message) => {
    const dir = mkdtempSync(join(tmpdir(), "gatehouse-rbac-bad-"));
    writeFileSync(join(dir, "policy.yaml"), yaml);
    const r = await gatehouse(["rbac", "review", "--objects", join(dir, "policy.yaml")], {
      input: sar({ user: "a", nonResourceAttributes: { verb: "get", path: "/" } }),
    });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(message);
  });

  it("reads reviews from standard input and exits 1 for can-i no", async () => {
    const dir = fixture();
    const r = await gatehouse(["rbac", "review", "--objects", join(dir, "policy")], {
      input:
        sar({ user: "bob", groups: ["dev"], resourceAttributes: { verb: "watch", resource: "pods" } }) + "\n",
    });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: { allowed: false } });
    const no = await gatehouse([
      "rbac",
      "can-i",
      "get",
      "secrets",
      "--as",
      "bob",
      "--objects",
      join(dir, "policy"),
    ]);
    expect([no.code, no.stdout]).toEqual([1, "no\n"]);
  });
});
