import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startClusters, type TestCluster } from "../harness/clusters.js";
import { kubectl } from "../e2e/kubectl.js";
import { startGatewayFixture, type GatewayFixture } from "../e2e/gateway-setup.js";
import { call } from "../server/client.js";
import { gatehouse } from "../cli/run.js";
import { pino } from "pino";
import type { ClusterRegistry } from "../../src/clusters/types.js";
import { startTenancyReconciler, TenancyService } from "../../src/server/tenancy/index.js";

type Who = { token: string; kubeconfig: string };

/** A pod the restricted Pod Security level admits, with requests so the quota admits it. */
function pod(ns: string, name: string, labels: Record<string, string> = {}): string {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: ns, labels: { app: name, ...labels } },
    spec: {
      securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: "RuntimeDefault" } },
      containers: [
        {
          name: "app",
          image: "registry.k8s.io/pause:3.10",
          ports: [{ containerPort: 8080, name: "http" }],
          resources: { requests: { cpu: "100m", memory: "64Mi" }, limits: { cpu: "200m", memory: "128Mi" } },
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
        },
      ],
    },
  });
}

describe("tenant spaces on real clusters, through the gateway with the real kubectl", () => {
  let clusters: TestCluster[];
  let fx: GatewayFixture;
  let alice: Who;
  let bob: Who;
  let carol: Who;
  let dave: Who;
  let admin: (...args: string[]) => ReturnType<typeof kubectl>;
  const k = (who: Who, ctx: string, ...args: string[]) =>
    kubectl(["--kubeconfig", who.kubeconfig, "--context", ctx, ...args]);
  const cli = (...args: string[]) =>
    gatehouse(args, {
      env: {
        GATEHOUSE_SERVER: fx.gh.url,
        GATEHOUSE_USERNAME: "admin",
        GATEHOUSE_PASSWORD: fx.admin[1],
        GATEHOUSE_CA: fx.ca,
      },
    });
  const gw = (who: Who, method: string, path: string, headers: Record<string, string> = {}, body?: string) =>
    call(fx.gh.url, fx.ca, method, `/k8s/clusters/cluster-1${path}`, {
      headers: { authorization: `Bearer ${who.token}`, ...headers },
      ...(body !== undefined ? { body } : {}),
    });
  const nsJson = (name: string, labels: Record<string, string> = {}) =>
    JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name, labels } });

  beforeAll(async () => {
    clusters = await startClusters(2, { controllerManager: true });
    admin = (...args) => kubectl(["--kubeconfig", clusters[0]!.kubeconfigPath, ...args]);
    fx = await startGatewayFixture(clusters, { "cluster-1": { env: "dev" }, "cluster-2": { env: "prod" } });
    alice = await fx.user("alice");
    bob = await fx.user("bob");
    carol = await fx.user("carol");
    dave = await fx.user("dave");
    await fx.apply("teams", { kind: "Team", metadata: { name: "acme-devs" }, spec: { users: ["carol"] } });
    await fx.apply("tenants", {
      kind: "Tenant",
      metadata: { name: "acme" },
      spec: {
        owners: [{ kind: "User", name: "alice" }],
        members: [{ kind: "Team", name: "acme-devs" }],
        clusters: { selector: { matchLabels: { env: "dev" } } },
        naming: { prefix: "acme-" },
        maxSpaces: 2,
        quota: {
          space: { "requests.cpu": "1", "limits.memory": "1Gi", pods: "10" },
          perCluster: { "requests.cpu": "2" },
        },
      },
    });
    await fx.apply("tenants", {
      kind: "Tenant",
      metadata: { name: "beta" },
      spec: { owners: [{ kind: "User", name: "bob" }], clusters: { names: ["cluster-1"] } },
    });
    await fx.apply("tenants", {
      kind: "Tenant",
      metadata: { name: "race" },
      spec: { owners: [{ kind: "User", name: "dave" }], clusters: { names: ["cluster-1"] }, maxSpaces: 2 },
    });
    await fx.gh.tenancy.runOnce();
  }, 600_000);
  afterAll(async () => {
    await fx?.gh.close();
    await Promise.all((clusters ?? []).map((c) => c.stop()));
  });

  it("kubectl create namespace by a tenant owner makes a space, with its objects read back from the cluster", async () => {
    const r = await k(alice, "cluster-1", "create", "namespace", "acme-web");
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("namespace/acme-web created\n");
    const ns = JSON.parse((await admin("get", "namespace", "acme-web", "-o", "json")).stdout);
    expect(ns.metadata.labels).toMatchObject({
      "gatehouse.io/tenant": "acme",
      "gatehouse.io/managed": "tenancy",
      "pod-security.kubernetes.io/enforce": "restricted",
      "pod-security.kubernetes.io/warn": "restricted",
      "pod-security.kubernetes.io/audit": "restricted",
    });
    const np = JSON.parse((await admin("-n", "acme-web", "get", "networkpolicies", "-o", "json")).stdout);
    expect(np.items.map((p: { metadata: { name: string } }) => p.metadata.name).sort()).toEqual([
      "gatehouse-allow-dns",
      "gatehouse-allow-tenant",
      "gatehouse-default-deny",
    ]);
    const deny = np.items.find(
      (p: { metadata: { name: string } }) => p.metadata.name === "gatehouse-default-deny",
    );
    expect(deny.spec).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
    const quota = JSON.parse(
      (await admin("-n", "acme-web", "get", "resourcequota", "gatehouse-quota", "-o", "json")).stdout,
    );
    expect(quota.spec.hard).toEqual({ "requests.cpu": "1", "limits.memory": "1Gi", pods: "10" });
    const lr = JSON.parse(
      (await admin("-n", "acme-web", "get", "limitrange", "gatehouse-limits", "-o", "json")).stdout,
    );
    expect(lr.spec.limits[0]).toMatchObject({ type: "Container", default: { cpu: "500m", memory: "512Mi" } });
    // The owner's and members' RoleBindings come through the access bindings and the RBAC sync.
    await fx.gh.reconciler.runOnce();
    const rbs = JSON.parse((await admin("-n", "acme-web", "get", "rolebindings", "-o", "json")).stdout);
    const byName = new Map(rbs.items.map((b: { metadata: { name: string } }) => [b.metadata.name, b]));
    expect(byName.get("gatehouse:space.acme-web.cluster-1.owners")).toMatchObject({
      subjects: [{ kind: "User", name: "alice" }],
      roleRef: { kind: "ClusterRole", name: "gatehouse:admin" },
    });
    expect(byName.get("gatehouse:space.acme-web.cluster-1.members")).toMatchObject({
      subjects: [{ kind: "Group", name: "gatehouse:team:acme-devs" }],
      roleRef: { name: "gatehouse:edit" },
    });
  });

  it("the owner works in the space at once: central authorization lets them in", async () => {
    const r = await k(
      alice,
      "cluster-1",
      "-n",
      "acme-web",
      "create",
      "configmap",
      "settings",
      "--from-literal=a=b",
    );
    expect(r.stderr).toBe("");
    expect(
      (await k(alice, "cluster-1", "-n", "acme-web", "get", "configmaps", "settings", "-o", "name")).stdout,
    ).toBe("configmap/settings\n");
    expect(
      (await k(carol, "cluster-1", "-n", "acme-web", "get", "configmaps", "-o", "name")).stdout,
    ).toContain("configmap/settings");
  });

  it("creates a space with gatehouse space create and lists it with -o json", async () => {
    const r = await cli("space", "create", "acme-api", "--tenant", "acme", "--cluster", "cluster-1");
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("space/acme-api created on cluster cluster-1 for tenant acme\n");
    expect(
      (await admin("get", "networkpolicy", "-n", "acme-api", "gatehouse-allow-tenant", "-o", "name")).stdout,
    ).toBe("networkpolicy.networking.k8s.io/gatehouse-allow-tenant\n");
    const list = await cli("space", "list", "--tenant", "acme", "-o", "json");
    expect(JSON.parse(list.stdout).items.map((s: { metadata: { name: string } }) => s.metadata.name)).toEqual(
      ["acme-api", "acme-web"],
    );
    const table = await cli("space", "list");
    expect(table.stdout).toMatch(/^NAME\s+TENANT\s+CLUSTER\s+CREATED\n/);
    const t = await cli("tenant", "get", "acme", "-o", "json");
    expect(JSON.parse(t.stdout).status.usage.perCluster["cluster-1"]).toEqual({
      spaces: "2",
      "requests.cpu": "2",
      "limits.memory": "2Gi",
      pods: "20",
    });
  });

  it("refuses a name against the tenant's rules with kube-apiserver's 422 Status", async () => {
    const r = await k(alice, "cluster-1", "create", "namespace", "web");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('The Namespace "web" is invalid: metadata.name: Invalid value: "web"');
    expect(r.stderr).toContain('requires space names to start with "acme-"');
    const raw = await gw(
      alice,
      "POST",
      "/api/v1/namespaces",
      { "content-type": "application/json" },
      nsJson("Bad_Name"),
    );
    expect(raw.status).toBe(422);
    expect(raw.json()).toMatchObject({
      kind: "Status",
      status: "Failure",
      reason: "Invalid",
      code: 422,
      details: {
        name: "Bad_Name",
        kind: "Namespace",
        causes: [{ reason: "FieldValueInvalid", field: "metadata.name" }],
      },
    });
  });

  it("refuses the space over maxSpaces with a 403 Status that says what to do", async () => {
    const raw = await gw(
      alice,
      "POST",
      "/api/v1/namespaces",
      { "content-type": "application/json" },
      nsJson("acme-third"),
    );
    expect(raw.status).toBe(403);
    expect(raw.json()).toMatchObject({
      kind: "Status",
      reason: "Forbidden",
      code: 403,
      message:
        'namespaces "acme-third" is forbidden: tenant acme has 2 of at most 2 spaces; delete one first or ask for a higher spec.maxSpaces',
      details: { name: "acme-third", kind: "namespaces" },
    });
    expect((await admin("get", "namespace", "acme-third")).code).toBe(1);
  });

  it("refuses the space over the per-cluster quota", async () => {
    await fx.apply("tenants", {
      kind: "Tenant",
      metadata: { name: "tight" },
      spec: {
        owners: [{ kind: "User", name: "bob" }],
        clusters: { names: ["cluster-1"] },
        naming: { prefix: "tight-" },
        quota: { space: { pods: "5" }, perCluster: { pods: "5" } },
      },
    });
    expect((await k(bob, "cluster-1", "create", "namespace", "tight-a")).code).toBe(0);
    const r = await k(bob, "cluster-1", "create", "namespace", "tight-b");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'namespaces "tight-b" is forbidden: exceeded tenant tight\'s quota on cluster cluster-1: pods: requested 10, limited: 5',
    );
  });

  it("a tenant owner cannot create a space on a cluster the tenant may not use (the cluster does not exist for them)", async () => {
    const r = await k(alice, "cluster-2", "create", "namespace", "acme-prod");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("NotFound");
    expect(
      (await kubectl(["--kubeconfig", clusters[1]!.kubeconfigPath, "get", "ns", "acme-prod"])).code,
    ).toBe(1);
  });

  it("a member may not create spaces (only owners may)", async () => {
    const r = await k(carol, "cluster-1", "create", "namespace", "acme-x");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('User "carol" cannot create resource "namespaces"');
  });

  it("kubectl get namespaces shows a tenant owner their tenant's namespaces only, as a table and as JSON", async () => {
    expect((await k(bob, "cluster-1", "create", "namespace", "beta-one", "-o", "name")).stdout).toBe(
      "namespace/beta-one\n",
    );
    const table = await k(alice, "cluster-1", "get", "namespaces");
    expect(table.stderr).toBe("");
    const names = table.stdout
      .trim()
      .split("\n")
      .slice(1)
      .map((l) => l.split(/\s+/)[0]);
    expect(names).toEqual(["acme-api", "acme-web"]);
    expect(table.stdout).toMatch(/^NAME\s+STATUS\s+AGE\n/);
    const json = JSON.parse((await k(alice, "cluster-1", "get", "namespaces", "-o", "json")).stdout);
    expect(json.items.map((n: { metadata: { name: string } }) => n.metadata.name)).toEqual([
      "acme-api",
      "acme-web",
    ]);
    const bobs = JSON.parse((await k(bob, "cluster-1", "get", "namespaces", "-o", "json")).stdout);
    expect(bobs.items.map((n: { metadata: { name: string } }) => n.metadata.name)).toEqual([
      "beta-one",
      "tight-a",
    ]);
    // Members see their tenant's namespaces too.
    const carols = await k(carol, "cluster-1", "get", "namespaces", "-o", "name");
    expect(carols.stdout).toBe("namespace/acme-api\nnamespace/acme-web\n");

    const raw = await gw(alice, "GET", "/api/v1/namespaces?limit=500", {
      accept: "application/json;as=Table;v=v1;g=meta.k8s.io,application/json",
    });
    expect(raw.status).toBe(200);
    const t = raw.json<{ kind: string; rows: { cells: string[] }[] }>();
    expect(t.kind).toBe("Table");
    expect(t.rows.map((r) => r.cells[0])).toEqual(["acme-api", "acme-web"]);
    // The caller's own selector narrows further, it never widens.
    const sel = await gw(
      alice,
      "GET",
      `/api/v1/namespaces?labelSelector=${encodeURIComponent("kubernetes.io/metadata.name=acme-web")}`,
    );
    expect(sel.json<{ items: { metadata: { name: string } }[] }>().items.map((n) => n.metadata.name)).toEqual(
      ["acme-web"],
    );
    const trick = await gw(
      alice,
      "GET",
      `/api/v1/namespaces?labelSelector=${encodeURIComponent("gatehouse.io/tenant=beta")}`,
    );
    expect(trick.json<{ items: unknown[] }>().items).toEqual([]);
  });

  it("a tenant owner can neither see nor touch another tenant's space", async () => {
    const get = await k(alice, "cluster-1", "get", "namespace", "beta-one");
    expect(get.code).toBe(1);
    expect(get.stderr).toContain(
      'namespaces "beta-one" is forbidden: User "alice" cannot get resource "namespaces" in API group "" in the namespace "beta-one"',
    );
    const del = await k(alice, "cluster-1", "delete", "namespace", "beta-one");
    expect(del.code).toBe(1);
    expect(del.stderr).toContain('User "alice" cannot delete resource "namespaces"');
    const pods = await k(alice, "cluster-1", "-n", "beta-one", "get", "pods");
    expect(pods.stderr).toContain("forbidden");
    const raw = await gw(alice, "DELETE", "/api/v1/namespaces/beta-one");
    expect(raw.status).toBe(403);
    expect((await admin("get", "namespace", "beta-one", "-o", "jsonpath={.status.phase}")).stdout).toBe(
      "Active",
    );
    // Naming another tenant by label is refused too.
    const label = await gw(
      alice,
      "POST",
      "/api/v1/namespaces",
      { "content-type": "application/json" },
      nsJson("acme-stolen", { "gatehouse.io/tenant": "beta" }),
    );
    expect(label.status).toBe(403);
    expect(label.json<{ message: string }>().message).toContain('not an owner of tenant "beta"');
  });

  it("the spaces and verify API show owners and members their own tenants only", async () => {
    const api = (who: Who, method: string, path: string, body?: unknown) =>
      call(fx.gh.url, fx.ca, method, `/apis/gatehouse.io/v1alpha1${path}`, {
        headers: { authorization: `Bearer ${who.token}`, "content-type": "application/json" },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    const names = (r: Awaited<ReturnType<typeof api>>) =>
      r.json<{ items: { metadata: { name: string } }[] }>().items.map((i) => i.metadata.name);
    expect(names(await api(alice, "GET", "/spaces"))).toEqual(["acme-api", "acme-web"]);
    expect(names(await api(carol, "GET", "/spaces"))).toEqual(["acme-api", "acme-web"]);
    expect(names(await api(bob, "GET", "/spaces?tenant=acme"))).toEqual([]);
    expect((await api(bob, "GET", "/clusters/cluster-1/spaces/acme-web")).status).toBe(404);
    expect((await api(carol, "GET", "/clusters/cluster-1/spaces/acme-web")).status).toBe(200);
    const carolDelete = await api(carol, "DELETE", "/clusters/cluster-1/spaces/acme-web");
    expect(carolDelete.status).toBe(403);
    expect(carolDelete.json<{ reason: string }>().reason).toBe("Forbidden");
    expect((await api(bob, "DELETE", "/clusters/cluster-1/spaces/acme-web")).status).toBe(404);
    const steal = await api(bob, "POST", "/clusters/cluster-1/spaces", {
      apiVersion: "gatehouse.io/v1alpha1",
      kind: "Space",
      metadata: { name: "acme-bobs" },
      spec: { tenant: "acme" },
    });
    expect(steal.status).toBe(403);
    expect(steal.json<{ message: string }>().message).toContain('User "bob" cannot create resource "spaces"');
    expect((await api(alice, "GET", "/tenants/acme/verify")).status).toBe(200);
    expect((await api(carol, "GET", "/tenants/acme/verify")).status).toBe(403);
    expect((await api(alice, "GET", "/tenants/beta/verify")).status).toBe(403);
    // Owners and members read their own Tenant, never another's (test/tenancy/self-service.test.ts).
    expect((await api(alice, "GET", "/tenants/acme")).status).toBe(200);
    expect((await api(carol, "GET", "/tenants/acme")).status).toBe(200);
    expect((await api(alice, "GET", "/tenants/beta")).status).toBe(403);
  });

  it("two owners racing through the gateway cannot exceed maxSpaces", async () => {
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        gw(dave, "POST", "/api/v1/namespaces", { "content-type": "application/json" }, nsJson(`race-${i}`)),
      ),
    );
    const codes = results.map((r) => r.status).sort();
    expect(codes).toEqual([201, 201, 403, 403, 403]);
    for (const r of results.filter((x) => x.status === 403))
      expect(r.json<{ message: string }>().message).toContain("has 2 of at most 2 spaces");
    const onCluster = JSON.parse(
      (await admin("get", "ns", "-l", "gatehouse.io/tenant=race", "-o", "json")).stdout,
    );
    expect(onCluster.items).toHaveLength(2);
  });

  it("tenant verify passes on the default templates and fails, naming the path, after a permissive policy", async () => {
    for (const [ns, name] of [
      ["acme-web", "web"],
      ["acme-api", "api"],
      ["beta-one", "beta"],
      ["default", "spy"],
    ] as const) {
      const r = await kubectl(["--kubeconfig", clusters[0]!.kubeconfigPath, "apply", "-f", "-"], {
        input: pod(ns, name),
      });
      expect(r.stderr).toBe("");
    }
    const ok = await cli("tenant", "verify", "acme");
    expect(ok.stderr).toBe("");
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("tenant acme: isolated");
    expect(ok.stdout).toContain("cluster cluster-1: isolated (spaces: acme-api, acme-web)");
    expect(ok.stdout).toMatch(/acme-web\s+requests\.cpu\s+1\s+100m\s+900m/);

    // The owner opens the space to everyone (they may: admin in their space).
    const open = JSON.stringify({
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "allow-everyone", namespace: "acme-web" },
      spec: { podSelector: {}, policyTypes: ["Ingress"], ingress: [{}] },
    });
    expect(
      (
        await kubectl(["--kubeconfig", alice.kubeconfig, "--context", "cluster-1", "apply", "-f", "-"], {
          input: open,
        })
      ).code,
    ).toBe(0);
    const broken = await cli("tenant", "verify", "acme", "--cluster", "cluster-1", "-o", "json");
    expect(broken.code).toBe(1);
    const v = JSON.parse(broken.stdout);
    expect(v.status.isolated).toBe(false);
    const paths = v.status.clusters[0].network as { from: string; to: string; explanation: string }[];
    const spy = paths.find((p) => p.from === "default/spy" && p.to === "acme-web/web");
    expect(spy?.explanation).toContain("acme-web/allow-everyone");
    expect(paths.find((p) => p.from === "beta-one/beta")).toBeUndefined(); // beta's own egress deny holds
    expect(paths.every((p) => p.to.startsWith("acme-web/") || p.from.startsWith("acme-web/"))).toBe(true);
    const table = await cli("tenant", "verify", "acme");
    expect(table.code).toBe(1);
    expect(table.stdout).toMatch(/default\/spy\s+acme-web\/web\s+TCP\s+/);
    await admin("-n", "acme-web", "delete", "networkpolicy", "allow-everyone");
  });

  it("tenant verify names a subject outside the tenant that was granted access in a space", async () => {
    await admin("-n", "acme-api", "create", "rolebinding", "peek", "--clusterrole=view", "--user=mallory");
    const r = await cli("tenant", "verify", "acme", "-o", "json");
    expect(r.code).toBe(1);
    const rbac = JSON.parse(r.stdout).status.clusters[0].rbac as {
      subject: string;
      namespace: string;
      resource: string;
      via: string[];
    }[];
    expect(rbac.find((b) => b.subject === "User mallory" && b.resource === "pods")).toMatchObject({
      namespace: "acme-api",
      via: ["RoleBinding acme-api/peek"],
    });
    await admin("-n", "acme-api", "delete", "rolebinding", "peek");
    expect((await cli("tenant", "verify", "acme")).code).toBe(0);
  });

  it("netpol reads a live cluster: --kubeconfig directly, and --cluster through Gatehouse with the caller's rights", async () => {
    const direct = await cli(
      "netpol",
      "matrix",
      "--kubeconfig",
      clusters[0]!.kubeconfigPath,
      "--port",
      "8080",
      "-o",
      "json",
    );
    expect(direct.stderr).toBe("");
    const m = JSON.parse(direct.stdout) as { pods: string[]; allowed: (boolean | null)[][] };
    expect(m.pods).toEqual(expect.arrayContaining(["acme-web/web", "acme-api/api", "default/spy"]));
    const at = (from: string, to: string) => m.allowed[m.pods.indexOf(from)]?.[m.pods.indexOf(to)];
    expect(at("default/spy", "acme-web/web")).toBe(false);
    expect(at("acme-web/web", "acme-api/api")).toBe(true);

    const probes = join(fx.dir, "probes.jsonl");
    writeFileSync(
      probes,
      '{"from": "default/spy", "to": "acme-web/web", "port": 8080}\n{"from": "acme-web/web", "to": "acme-api/api", "port": "http"}\n',
    );
    // Gatehouse's admin has no rights on the cluster until bound: the read is the caller's own.
    const denied = await cli("netpol", "check", "--cluster", "cluster-1", "--probes", probes);
    expect(denied.code).toBe(2);
    expect(denied.stderr).toContain("not found");
    await fx.bind("admin-cluster-1", ["admin"], "cluster-admin", ["cluster-1"]);
    const via = await cli("netpol", "check", "--cluster", "cluster-1", "--probes", probes);
    expect(via.stderr).toBe("");
    const answers = via.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { allowed: boolean });
    expect(answers.map((a) => a.allowed)).toEqual([false, true]);
    // A cluster admin bound through Gatehouse is not an outsider for tenant verify.
    await fx.gh.reconciler.runOnce();
    expect((await cli("tenant", "verify", "acme")).code).toBe(0);

    const both = await cli("netpol", "lint", "--objects", probes, "--cluster", "cluster-1");
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("use only one of --objects, --cluster");
  });

  it("puts back what was deleted or changed in a space (drift repair)", async () => {
    await admin("-n", "acme-web", "delete", "networkpolicy", "gatehouse-default-deny");
    await admin(
      "-n",
      "acme-web",
      "patch",
      "resourcequota",
      "gatehouse-quota",
      "--type=merge",
      "-p",
      '{"spec":{"hard":{"pods":"999"}}}',
    );
    await admin(
      "-n",
      "acme-web",
      "patch",
      "networkpolicy",
      "gatehouse-allow-tenant",
      "--type=merge",
      "-p",
      '{"spec":{"ingress":[{}]}}',
    );
    await admin(
      "label",
      "namespace",
      "acme-web",
      "pod-security.kubernetes.io/enforce=privileged",
      "--overwrite",
    );
    // What the pass did: the four repairs, less any that the 30 s timer's pass (running between the
    // edits above) already made, which is as good; the cluster's state below proves all four.
    const r = await fx.gh.tenancy.runOnce();
    const did = r.spaces.get("cluster-1/acme-web") as string[];
    const repairs = [
      "restored labels of Namespace acme-web",
      "created NetworkPolicy acme-web/gatehouse-default-deny",
      "restored NetworkPolicy acme-web/gatehouse-allow-tenant",
      "restored ResourceQuota acme-web/gatehouse-quota",
    ];
    expect(did.filter((d) => !repairs.includes(d))).toEqual([]);
    expect(
      (await admin("-n", "acme-web", "get", "networkpolicy", "gatehouse-default-deny", "-o", "name")).code,
    ).toBe(0);
    expect(
      (
        await admin(
          "-n",
          "acme-web",
          "get",
          "resourcequota",
          "gatehouse-quota",
          "-o",
          "jsonpath={.spec.hard.pods}",
        )
      ).stdout,
    ).toBe("10");
    const allow = JSON.parse(
      (await admin("-n", "acme-web", "get", "networkpolicy", "gatehouse-allow-tenant", "-o", "json")).stdout,
    );
    expect(allow.spec.ingress).toEqual([
      { from: [{ namespaceSelector: { matchLabels: { "gatehouse.io/tenant": "acme" } } }] },
    ]);
    expect(
      (
        await admin(
          "get",
          "namespace",
          "acme-web",
          "-o",
          "jsonpath={.metadata.labels.pod-security\\.kubernetes\\.io/enforce}",
        )
      ).stdout,
    ).toBe("restricted");
    // A second pass finds nothing to do.
    expect((await fx.gh.tenancy.runOnce()).spaces.get("cluster-1/acme-web")).toEqual([]);
  });

  it("follows template changes: objects added to the tenant appear in its spaces and go when removed", async () => {
    const path = "/apis/gatehouse.io/v1alpha1/tenants/acme";
    const put = async (objects: unknown[]) => {
      const cur = (await call(fx.gh.url, fx.ca, "GET", path, { auth: fx.admin })).json<{
        spec: Record<string, unknown>;
        metadata: Record<string, unknown>;
      }>();
      const next = { ...cur, spec: { ...cur.spec, templates: { objects } } };
      const r = await call(fx.gh.url, fx.ca, "PUT", path, {
        auth: fx.admin,
        headers: { "content-type": "application/json" },
        body: JSON.stringify(next),
      });
      expect(r.status).toBe(200);
    };
    await put([
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "team-info" }, data: { owner: "acme" } },
    ]);
    // (The Tenant write also triggers a run in the background; either run may do the work.)
    await fx.gh.tenancy.runOnce();
    for (const ns of ["acme-web", "acme-api"])
      expect(
        (await admin("-n", ns, "get", "configmap", "team-info", "-o", "jsonpath={.data.owner}")).stdout,
      ).toBe("acme");
    await put([]);
    await fx.gh.tenancy.runOnce();
    expect((await admin("-n", "acme-web", "get", "configmap", "team-info")).code).toBe(1);
    expect(
      (await admin("-n", "acme-web", "get", "networkpolicy", "gatehouse-default-deny", "-o", "name")).code,
    ).toBe(0);
    // The status Gatehouse keeps survives a client's PUT.
    const list = await cli("tenant", "list");
    expect(list.stdout).toMatch(/^NAME\s+OWNERS\s+CLUSTERS\s+SPACES\n/);
    expect(list.stdout).toMatch(/acme\s+User\/alice\s+<selector>\s+2\/2\n/);
  });

  it("the reconciler's own timer repairs drift, without anyone asking", async () => {
    // A second reconciler over the same store and clusters, with a short period.
    const targets = clusters.map((c) => ({
      name: c.name,
      labels: c.name === "cluster-1" ? { env: "dev" } : { env: "prod" },
      server: c.url,
      caPem: c.caPem,
      insecureSkipTLSVerify: false,
      token: c.adminToken,
    }));
    const registry: ClusterRegistry = {
      get: async (name) => targets.find((t) => t.name === name),
      list: async () => targets,
      invalidate: () => undefined,
    };
    const log = pino({ level: "silent" });
    const service = new TenancyService({
      store: fx.gh.store,
      clusters: registry,
      log,
      now: Date.now,
      onAccessChange: () => undefined,
    });
    const rec = startTenancyReconciler({ service, clusters: registry, log, intervalMs: 500 });
    try {
      await admin("-n", "acme-web", "delete", "limitrange", "gatehouse-limits");
      let back = false;
      for (let i = 0; i < 120 && !back; i++) {
        await new Promise((res) => setTimeout(res, 250));
        back =
          (await admin("-n", "acme-web", "get", "limitrange", "gatehouse-limits", "-o", "name")).code === 0;
      }
      expect(back).toBe(true);
    } finally {
      rec.stop();
    }
  });

  it("kubectl delete namespace by the owner deletes the space, its access and, through the cluster, the namespace", async () => {
    const r = await k(alice, "cluster-1", "delete", "namespace", "acme-api", "--wait=false");
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe('namespace "acme-api" deleted\n');
    const list = JSON.parse((await cli("space", "list", "--tenant", "acme", "-o", "json")).stdout);
    expect(list.items.map((s: { metadata: { name: string } }) => s.metadata.name)).toEqual(["acme-web"]);
    const bindings = await call(fx.gh.url, fx.ca, "GET", "/apis/gatehouse.io/v1alpha1/accessbindings", {
      auth: fx.admin,
    });
    const names = bindings
      .json<{ items: { metadata: { name: string } }[] }>()
      .items.map((b) => b.metadata.name);
    expect(names).not.toContain("space.acme-api.cluster-1.owners");
    expect(names).toContain("space.acme-web.cluster-1.owners");
    let gone = false;
    for (let i = 0; i < 120 && !gone; i++) {
      gone = (await admin("get", "namespace", "acme-api")).code !== 0;
      if (!gone) await new Promise((res) => setTimeout(res, 500));
    }
    expect(gone).toBe(true);
    // The freed slot can be used again.
    expect((await k(alice, "cluster-1", "create", "namespace", "acme-next")).code).toBe(0);
    // gatehouse space delete works for admins too.
    const d = await cli("space", "delete", "acme-next", "--cluster", "cluster-1");
    expect(d.stdout).toBe("space/acme-next deleted from cluster cluster-1\n");
  });

  it("refuses to delete a tenant that still has spaces, with a 409 that names them", async () => {
    const r = await call(fx.gh.url, fx.ca, "DELETE", "/apis/gatehouse.io/v1alpha1/tenants/acme", {
      auth: fx.admin,
    });
    expect(r.status).toBe(409);
    const status = r.json<{ reason: string; message: string }>();
    expect(status.reason).toBe("Conflict");
    expect(status.message).toContain("cluster-1/acme-web");
    expect(status.message).toContain("gatehouse space delete");
    const still = await call(fx.gh.url, fx.ca, "GET", "/apis/gatehouse.io/v1alpha1/tenants/acme", {
      auth: fx.admin,
    });
    expect(still.status).toBe(200);
  });
});
