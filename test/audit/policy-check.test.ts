import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli, spawnCli } from "./run-cli.js";

const dir = mkdtempSync(join(tmpdir(), "gatehouse-policy-check-"));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

// kube-apiserver's documented example policy, shortened.
const policy = file(
  "policy.yaml",
  `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: RequestResponse
  resources:
  - group: ""
    resources: ["pods"]
- level: Metadata
  resources:
  - group: ""
    resources: ["pods/log", "pods/status"]
- level: None
  users: ["system:kube-proxy"]
  verbs: ["watch"]
  resources:
  - group: ""
    resources: ["endpoints", "services"]
- level: None
  userGroups: ["system:authenticated"]
  nonResourceURLs: ["/api*", "/version"]
- level: Request
  resources:
  - group: ""
    resources: ["configmaps"]
  namespaces: ["kube-system"]
- level: Metadata
  resources:
  - group: ""
    resources: ["secrets", "configmaps"]
  omitStages: [ResponseStarted]
  omitManagedFields: true
- level: Metadata
  omitStages: [RequestReceived]
`,
);

function sar(user: string, groups: string[], attrs: string): string {
  return JSON.stringify(
    JSON.parse(
      `{"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview","spec":{"user":${JSON.stringify(user)},"groups":${JSON.stringify(groups)},${attrs}}}`,
    ),
  );
}

const requests = [
  sar("alice", ["dev"], `"resourceAttributes":{"verb":"get","resource":"pods","namespace":"a","name":"p"}`),
  sar(
    "alice",
    ["dev"],
    `"resourceAttributes":{"verb":"get","resource":"pods","subresource":"log","namespace":"a","name":"p"}`,
  ),
  sar("system:kube-proxy", [], `"resourceAttributes":{"verb":"watch","resource":"services"}`),
  sar("bob", ["system:authenticated"], `"nonResourceAttributes":{"verb":"get","path":"/apis/apps"}`),
  sar(
    "bob",
    [],
    `"resourceAttributes":{"verb":"update","resource":"configmaps","namespace":"kube-system","name":"c"}`,
  ),
  sar("bob", [], `"resourceAttributes":{"verb":"list","resource":"secrets","namespace":"a"}`),
  sar(
    "bob",
    [],
    `"resourceAttributes":{"verb":"list","group":"apps","resource":"deployments","namespace":"a"}`,
  ),
];

describe("gatehouse audit policy-check", () => {
  it("prints one JSON line per request, in input order", async () => {
    const r = await runCli([
      "audit",
      "policy-check",
      "--policy",
      policy,
      "--requests",
      file("reqs.jsonl", requests.join("\n") + "\n"),
    ]);
    expect(r.code).toBe(0);
    expect(
      r.out
        .trimEnd()
        .split("\n")
        .map((l) => JSON.parse(l)),
    ).toEqual([
      { level: "RequestResponse", omitStages: ["RequestReceived"], omitManagedFields: false, rule: 0 },
      { level: "Metadata", omitStages: ["RequestReceived"], omitManagedFields: false, rule: 1 },
      { level: "None", omitStages: ["RequestReceived"], omitManagedFields: false, rule: 2 },
      { level: "None", omitStages: ["RequestReceived"], omitManagedFields: false, rule: 3 },
      { level: "Request", omitStages: ["RequestReceived"], omitManagedFields: false, rule: 4 },
      {
        level: "Metadata",
        omitStages: ["RequestReceived", "ResponseStarted"],
        omitManagedFields: true,
        rule: 5,
      },
      { level: "Metadata", omitStages: ["RequestReceived"], omitManagedFields: false, rule: 6 },
    ]);
  });

  it("reads YAML documents as well as JSON lines", async () => {
    const yaml = file(
      "reqs.yaml",
      "apiVersion: authorization.k8s.io/v1\nkind: SubjectAccessReview\nspec:\n  user: a\n  resourceAttributes: {verb: get, resource: pods}\n---\napiVersion: authorization.k8s.io/v1\nkind: SubjectAccessReview\nspec:\n  user: a\n  nonResourceAttributes: {verb: get, path: /healthz}\n",
    );
    const r = await runCli(["audit", "policy-check", "--policy", policy, "--requests", yaml]);
    expect(
      r.out
        .trimEnd()
        .split("\n")
        .map((l) => JSON.parse(l).level),
    ).toEqual(["RequestResponse", "Metadata"]);
  });

  const bad: [string, () => string[], RegExp][] = [
    [
      "a policy with no rules",
      () => ["--policy", file("empty.yaml", "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: []\n")],
      /empty\.yaml document 1.*0 rules/,
    ],
    [
      "an unknown level",
      () => [
        "--policy",
        file("level.yaml", "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Verbose\n"),
      ],
      /level\.yaml document 1.*rules\[0\]\.level: Unsupported value: "Verbose"/,
    ],
    [
      "a malformed policy file",
      () => ["--policy", file("broken.yaml", "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [\n")],
      /broken\.yaml document 1/,
    ],
    [
      "two policies in one file",
      () => [
        "--policy",
        file(
          "two.yaml",
          "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: None}]\n---\napiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: None}]\n",
        ),
      ],
      /expected one audit Policy, found 2/,
    ],
    ["a missing policy file", () => ["--policy", join(dir, "nope.yaml")], /nope\.yaml: cannot read/],
    [
      "a bad SubjectAccessReview",
      () => [
        "--policy",
        policy,
        "--requests",
        file(
          "badsar.jsonl",
          requests[0] +
            "\n" +
            '{"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview","spec":{"user":"a"}}\n',
        ),
      ],
      /badsar\.jsonl document 2 \(line 2\): spec: exactly one of nonResourceAttributes or resourceAttributes/,
    ],
    [
      "a malformed request line",
      () => ["--policy", policy, "--requests", file("badjson.jsonl", requests[0] + "\n{nope}\n")],
      /badjson\.jsonl document 2 \(line 2\)/,
    ],
    [
      "something that is not a SubjectAccessReview",
      () => ["--policy", policy, "--requests", file("pod.yaml", "apiVersion: v1\nkind: Pod\n")],
      /pod\.yaml document 1.*expected apiVersion authorization\.k8s\.io\/v1, kind SubjectAccessReview/,
    ],
  ];
  it.each(bad)("refuses %s with exit 2, naming the place, printing nothing", async (_what, args, message) => {
    const base = args();
    const full = base.includes("--requests")
      ? base
      : [...base, "--requests", file("ok.jsonl", requests[0] + "\n")];
    const r = await runCli(["audit", "policy-check", ...full]);
    expect(r.code).toBe(2);
    expect(r.out).toBe("");
    expect(r.err).toMatch(message);
  });

  it("requires --policy", async () => {
    const r = await runCli(["audit", "policy-check"]);
    expect(r.code).toBe(2);
    expect(r.out).toBe("");
  });

  it("reads requests from standard input and exits as main.ts maps errors", () => {
    const ok = spawnCli(
      ["audit", "policy-check", "--policy", policy],
      requests.slice(0, 2).join("\n") + "\n",
    );
    expect(ok.code).toBe(0);
    expect(ok.out.trimEnd().split("\n")).toHaveLength(2);
    const bad = spawnCli(["audit", "policy-check", "--policy", policy], '{"kind":"Nope"}\n{"kind":"Nope"}\n');
    expect(bad.code).toBe(2);
    expect(bad.out).toBe("");
    expect(bad.err).toMatch(/<stdin> document 1 \(line 1\)/);
  });
});
