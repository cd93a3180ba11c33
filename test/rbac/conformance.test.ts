/**
 * Conformance against a real kube-apiserver (v1.37.2, with kube-controller-manager for aggregation):
 * 200 seeded random scenarios (961 RBAC objects) are loaded beside the cluster's bootstrap policy,
 * then 2,000 SubjectAccessReviews are answered by the cluster and by Gatehouse, from the live
 * objects (--kubeconfig) and offline from the YAML (--objects, aggregation computed by Gatehouse).
 * Also checked: aggregated rules against the controller's, rules against `kubectl auth can-i --list`,
 * can-i against `kubectl auth can-i`, can-grant against server-side dry-run creates, who-can
 * against the bindings the cluster names.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { buildProgram } from "../../src/cli/program.js";
import { KubeClient } from "../../src/clusters/kube-client.js";
import { loadKubeconfig } from "../../src/clusters/kubeconfig.js";
import type { KubeObject } from "../../src/core/k8s/objects.js";
import type { SubjectAccessReviewSpec } from "../../src/core/k8s/sar.js";
import {
  aggregateClusterRoles,
  allowedReason,
  appliesToUser,
  buildIndex,
  checkApply,
  impersonatedUser,
  LinearRbac,
  parseRbacObjects,
  rulesAllow,
  whoCan,
  type ClusterRole,
  type RbacObject,
} from "../../src/core/rbac/index.js";
import { startClusters, type TestCluster } from "../harness/clusters.js";
import { kubectl } from "../e2e/kubectl.js";
import { scenarios, type Scenario } from "./conformance-policy.js";

const RBAC_API = "/apis/rbac.authorization.k8s.io/v1";
const PLURAL: Record<string, string> = {
  Role: "roles",
  ClusterRole: "clusterroles",
  RoleBinding: "rolebindings",
  ClusterRoleBinding: "clusterrolebindings",
};

interface Status {
  allowed: boolean;
  reason?: string;
}

async function mapLimit<T, R>(xs: readonly T[], limit: number, f: (x: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(xs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < xs.length) {
        const i = next++;
        out[i] = await f(xs[i] as T);
      }
    }),
  );
  return out;
}

async function rbacObjects(client: KubeClient): Promise<RbacObject[]> {
  const docs = [];
  for (const [kind, plural] of Object.entries(PLURAL)) {
    const { items } = await client.list<KubeObject>(`${RBAC_API}/${plural}`);
    for (const [i, item] of items.entries())
      docs.push({
        object: { ...item, apiVersion: "rbac.authorization.k8s.io/v1", kind },
        source: { file: plural, document: i + 1 },
      });
  }
  return parseRbacObjects(docs).map((o) => o.object);
}

async function run(args: string[]): Promise<string> {
  let out = "";
  await buildProgram({ out: (t) => void (out += t), err: () => undefined }).parseAsync([
    "node",
    "gatehouse",
    ...args,
  ]);
  return out;
}

/**
 * A `kubectl auth can-i --list` table as a sorted list of rows with the verbs of each row sorted:
 * the order kube-apiserver returns rules in follows its informer cache, which changes from call to
 * call, and CompactRules merges verbs in that order.
 */
function canonicalTable(text: string): string[] {
  const [header = "", ...rows] = text.trimEnd().split("\n");
  const starts = ["Resources", "Non-Resource URLs", "Resource Names", "Verbs"].map((h) => header.indexOf(h));
  return rows
    .map((row) =>
      starts
        .map((start, i) => row.slice(start, starts[i + 1] ?? row.length).trim())
        .map((cell, i) => (i === 3 ? cell.slice(1, -1).split(" ").sort().join(" ") : cell))
        .join(" | "),
    )
    .sort();
}

/** Split "RBAC: [a, b]" style texts into their messages, as the order of several errors is the informer's. */
function messages(reason: string | undefined): string[] {
  const m = /^rbac: RBAC: \[(.*)\]$/.exec(reason ?? "");
  return m ? (m[1] ?? "").split(", ").sort() : [reason ?? ""];
}

let cluster: TestCluster;
let client: KubeClient;
let all: Scenario[];
let bootstrap: RbacObject[];
let reviews: SubjectAccessReviewSpec[];
let clusterAnswers: Status[];
let dir: string;

beforeAll(async () => {
  [cluster] = (await startClusters(1, { controllerManager: true })) as [TestCluster];
  client = new KubeClient(loadKubeconfig(cluster.kubeconfigPath));
  bootstrap = await rbacObjects(client);
  all = scenarios(200, 20261128);
  await mapLimit(all, 16, (s) =>
    client.postJSON("/api/v1/namespaces", {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: s.namespace },
    }),
  );
  const objects = all.flatMap((s) => s.objects);
  await mapLimit(objects, 16, (o) => {
    const ns = o.metadata?.namespace;
    const path = `${RBAC_API}${ns ? `/namespaces/${ns}` : ""}/${PLURAL[o.kind ?? ""]}`;
    return client.postJSON(path, o);
  });
  // Wait until the aggregation controller has filled every aggregated ClusterRole.
  for (let i = 0; ; i++) {
    const roles = (await rbacObjects(client)).filter((o): o is ClusterRole => o.kind === "ClusterRole");
    const want = aggregateClusterRoles(roles).clusterRoles;
    if (want.every((r, j) => JSON.stringify(r.rules) === JSON.stringify(roles[j]?.rules))) break;
    if (i > 60) throw new Error("aggregation did not settle");
    await new Promise((r) => setTimeout(r, 500));
  }
  dir = mkdtempSync(join(tmpdir(), "gatehouse-conformance-"));
  // Offline inputs: the bootstrap policy as read before our objects, and our objects as generated
  // (aggregated ClusterRoles with empty rules, for Gatehouse to fill).
  writeFileSync(join(dir, "bootstrap.yaml"), stringify({ apiVersion: "v1", kind: "List", items: bootstrap }));
  writeFileSync(join(dir, "generated.yaml"), objects.map((o) => stringify(o)).join("---\n"));
  reviews = all.flatMap((s) => s.reviews);
  writeFileSync(
    join(dir, "reviews.jsonl"),
    reviews
      .map((spec) =>
        JSON.stringify({ apiVersion: "authorization.k8s.io/v1", kind: "SubjectAccessReview", spec }),
      )
      .join("\n"),
  );
  clusterAnswers = await mapLimit(reviews, 16, async (spec) => {
    const r = await client.postJSON<{ status: Status }>(
      "/apis/authorization.k8s.io/v1/subjectaccessreviews",
      {
        apiVersion: "authorization.k8s.io/v1",
        kind: "SubjectAccessReview",
        spec,
      },
    );
    return r.status;
  });
}, 240_000);

afterAll(async () => {
  client?.close();
  await cluster?.stop();
});

/** Every reason kube-apiserver could give for an allow (its binding order is its informer's). */
function possibleAllowReasons(objects: RbacObject[], spec: SubjectAccessReviewSpec): Set<string> {
  const lin = LinearRbac.from(objects);
  const user = { username: spec.user ?? "", groups: spec.groups ?? [] };
  const ra = spec.resourceAttributes;
  const attrs = ra
    ? {
        kind: "resource" as const,
        user,
        verb: ra.verb ?? "",
        namespace: ra.namespace ?? "",
        apiGroup: ra.group ?? "",
        apiVersion: "*",
        resource: ra.resource ?? "",
        subresource: ra.subresource ?? "",
        name: ra.name ?? "",
      }
    : {
        kind: "nonResource" as const,
        user,
        verb: spec.nonResourceAttributes?.verb ?? "",
        path: spec.nonResourceAttributes?.path ?? "",
      };
  const out = new Set<string>();
  const ns = attrs.kind === "resource" ? attrs.namespace : "";
  const bindings = [...lin.clusterRoleBindings(), ...(ns ? lin.roleBindings(ns) : [])];
  for (const b of bindings) {
    const bns = b.kind === "RoleBinding" ? b.metadata.namespace : "";
    const i = b.subjects.findIndex((s) => appliesToUser(user, s, bns));
    const role = lin.resolveRoleRef(b.roleRef, bns);
    if (i >= 0 && role.found && rulesAllow(attrs, role.role.rules)) out.add(allowedReason(b, i));
  }
  return out;
}

function compare(ours: Status[], objects: RbacObject[]): void {
  expect(ours).toHaveLength(clusterAnswers.length);
  let allowed = 0;
  ours.forEach((mine, i) => {
    const theirs = clusterAnswers[i] as Status;
    const spec = reviews[i] as SubjectAccessReviewSpec;
    expect({ i, spec, allowed: mine.allowed }).toEqual({ i, spec, allowed: theirs.allowed });
    if (theirs.allowed) allowed++;
    if (mine.reason === theirs.reason) return;
    if (theirs.allowed) {
      // Several bindings allow: both must name one of them.
      const possible = possibleAllowReasons(objects, spec);
      expect(possible.has(theirs.reason ?? "")).toBe(true);
      expect(possible.has(mine.reason ?? "")).toBe(true);
    } else {
      expect(messages(mine.reason)).toEqual(messages(theirs.reason));
    }
  });
  // The scenarios must exercise both answers, and denials that name missing roles.
  expect(allowed).toBeGreaterThan(300);
  expect(ours.length - allowed).toBeGreaterThan(300);
  expect(clusterAnswers.filter((a) => a.reason?.startsWith("rbac: RBAC: ")).length).toBeGreaterThan(20);
}

describe("conformance with a real kube-apiserver", () => {
  it("answers 2,000 SubjectAccessReviews as the cluster does, from the cluster's live RBAC objects", async () => {
    const out = await run([
      "rbac",
      "review",
      "--kubeconfig",
      cluster.kubeconfigPath,
      "--reviews",
      join(dir, "reviews.jsonl"),
    ]);
    const ours = out
      .trimEnd()
      .split("\n")
      .map((l) => (JSON.parse(l) as { status: Status }).status);
    compare(ours, await rbacObjects(client));
  });

  it("answers them the same offline, from the YAML, computing aggregation itself", async () => {
    const out = await run(["rbac", "review", "--objects", dir, "--reviews", join(dir, "reviews.jsonl")]);
    const ours = out
      .trimEnd()
      .split("\n")
      .map((l) => (JSON.parse(l) as { status: Status }).status);
    compare(ours, await rbacObjects(client));
  });

  it("fills aggregated ClusterRoles with exactly the rules, in the order, the aggregation controller gave them", async () => {
    const printed = JSON.parse(await run(["rbac", "aggregate", "--objects", dir, "-o", "json"])) as {
      items: ClusterRole[];
    };
    const live = new Map(
      (await rbacObjects(client))
        .filter((o) => o.kind === "ClusterRole")
        .map((o) => [o.metadata.name, o as ClusterRole]),
    );
    expect(printed.items.length).toBeGreaterThan(20);
    for (const r of printed.items)
      expect({ name: r.metadata.name, rules: r.rules }).toEqual({
        name: r.metadata.name,
        rules: live.get(r.metadata.name)?.rules ?? [],
      });
  });

  it("lists rules as `kubectl auth can-i --list --as` does", async () => {
    const cases = all.slice(0, 8).map((s, k) => ({
      ns: s.namespace,
      user: s.reviews[0]?.user ?? "",
      groups: (s.reviews[k % 10]?.groups ?? []).filter((g) => g !== "system:authenticated"),
    }));
    await mapLimit(cases, 4, async ({ ns, user, groups }) => {
      const as = ["--as", user, ...groups.flatMap((g) => ["--as-group", g])];
      const theirs = await kubectl([
        "--kubeconfig",
        cluster.kubeconfigPath,
        "auth",
        "can-i",
        "--list",
        "-n",
        ns,
        ...as,
      ]);
      expect(theirs.code).toBe(0);
      const ours = await run(["rbac", "rules", "--kubeconfig", cluster.kubeconfigPath, "-n", ns, ...as]);
      expect(ours.split("\n")[0]).toBe(theirs.stdout.split("\n")[0]);
      expect(canonicalTable(ours)).toEqual(canonicalTable(theirs.stdout));
    });
  }, 60_000);

  it("answers can-i as `kubectl auth can-i --as` does", async () => {
    // kubectl resolves RESOURCE through discovery; only resources this server serves compare.
    const served = new Set(["/pods", "/configmaps", "apps/deployments", "rbac.authorization.k8s.io/roles"]);
    const specs = reviews.filter((r, i) => {
      const ra = r.resourceAttributes;
      return i % 7 === 0 && (ra === undefined || served.has(`${ra.group ?? ""}/${ra.resource ?? ""}`));
    });
    const checks = specs.slice(0, 20).map((spec) => {
      const ra = spec.resourceAttributes;
      const target = ra
        ? `${ra.resource}${ra.group ? `.${ra.group}` : ""}${ra.name ? `/${ra.name}` : ""}`
        : (spec.nonResourceAttributes?.path ?? "/");
      const args = [
        ra?.verb ?? spec.nonResourceAttributes?.verb ?? "get",
        target,
        "--as",
        spec.user ?? "",
        ...(spec.groups ?? []).flatMap((g) => ["--as-group", g]),
      ];
      if (ra?.subresource) args.push("--subresource", ra.subresource);
      if (ra) args.push(...(ra.namespace ? ["-n", ra.namespace] : ["-A"]));
      return args;
    });
    const answers = await mapLimit(checks, 4, async (args) => {
      const theirs = await kubectl(["--kubeconfig", cluster.kubeconfigPath, "auth", "can-i", ...args]);
      // can-i prints "no" and then throws NegativeAnswer (exit 1), so the printed text is not returned.
      const ours = await run(["rbac", "can-i", ...args, "--kubeconfig", cluster.kubeconfigPath]).catch(
        () => "no\n",
      );
      const answer = ours.split(" ")[0]?.trim();
      expect({ args, answer }).toEqual({ args, answer: theirs.stdout.split(" ")[0]?.trim() });
      return answer;
    });
    expect(new Set(answers)).toEqual(new Set(["yes", "no"]));
  }, 60_000);

  it("decides can-grant as the cluster decides a server-side dry-run create by that user", async () => {
    // A delegated administrator in ten namespaces: may create roles and bindings, holds some rules.
    const grantor = "delegate";
    const objects = await rbacObjects(client);
    const setup: KubeObject[] = all.slice(0, 10).flatMap((s) => [
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: { name: "delegate-admin", namespace: s.namespace },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "admin" },
        subjects: [{ kind: "User", apiGroup: "rbac.authorization.k8s.io", name: grantor }],
      },
    ]);
    await mapLimit(setup, 8, (o) =>
      client.postJSON(`${RBAC_API}/namespaces/${o.metadata?.namespace}/rolebindings`, o),
    );
    const policy = [
      ...objects,
      ...parseRbacObjects(
        setup.map((object, i) => ({ object, source: { file: "setup", document: i + 1 } })),
      ).map((o) => o.object),
    ];
    const candidates = scenarios(40, 777)
      .flatMap((s, k) =>
        s.objects
          .filter((o) => o.kind === "Role" || o.kind === "RoleBinding")
          .map((o) => ({
            ...o,
            metadata: {
              ...o.metadata,
              name: `cand-${k}-${o.metadata?.name}`,
              namespace: all[k % 12]?.namespace ?? "default",
            },
          })),
      )
      .slice(0, 30);
    const user = impersonatedUser(grantor, []);
    const verdicts = candidates.map((c) => {
      const [obj] = parseRbacObjects([{ object: c, source: { file: "c", document: 1 } }]).map(
        (o) => o.object,
      );
      return checkApply(buildIndex(policy, { aggregate: false }), user, [obj as RbacObject])[0]?.allowed;
    });
    const theirs = await mapLimit(candidates, 4, async (c) => {
      const file = join(dir, `${c.metadata?.namespace}-${c.metadata?.name}.yaml`);
      writeFileSync(file, stringify(c));
      const r = await kubectl([
        "--kubeconfig",
        cluster.kubeconfigPath,
        "create",
        "--dry-run=server",
        "--as",
        grantor,
        "-f",
        file,
      ]);
      return r.code === 0;
    });
    expect(verdicts).toEqual(theirs);
    expect(theirs.filter(Boolean).length).toBeGreaterThan(3);
    expect(theirs.filter((x) => !x).length).toBeGreaterThan(3);
  }, 90_000);

  it("who-can names every binding the cluster gives as an allow reason", async () => {
    const objects = await rbacObjects(client);
    const index = buildIndex(objects, { aggregate: false });
    reviews.forEach((spec, i) => {
      const reason = clusterAnswers[i]?.reason ?? "";
      const m = /^RBAC: allowed by (ClusterRoleBinding|RoleBinding) "([^"/]+)(?:\/([^"]+))?"/.exec(reason);
      if (!m) return;
      const ra = spec.resourceAttributes;
      const action = ra
        ? {
            kind: "resource" as const,
            verb: ra.verb ?? "",
            namespace: ra.namespace ?? "",
            apiGroup: ra.group ?? "",
            apiVersion: "*",
            resource: ra.resource ?? "",
            subresource: ra.subresource ?? "",
            name: ra.name ?? "",
          }
        : {
            kind: "nonResource" as const,
            verb: spec.nonResourceAttributes?.verb ?? "",
            path: spec.nonResourceAttributes?.path ?? "",
          };
      const r = whoCan(index, action);
      const names = [...r.clusterRoleBindings, ...r.roleBindings].map((b) => `${b.kind}/${b.metadata.name}`);
      expect(names).toContain(`${m[1]}/${m[2]}`);
    });
  });
});
