import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { startClusters, type TestCluster } from "../harness/clusters.js";
import { call } from "../server/client.js";
import { kubectl } from "./kubectl.js";
import { startGatewayFixture, type GatewayFixture } from "./gateway-setup.js";

describe("the gateway: the real kubectl through Gatehouse to real clusters", () => {
  let clusters: TestCluster[];
  let fx: GatewayFixture;
  let alice: { token: string; kubeconfig: string };
  let bob: { token: string; kubeconfig: string };
  const k = (who: { kubeconfig: string }, ctx: string, ...args: string[]) =>
    kubectl(["--kubeconfig", who.kubeconfig, "--context", ctx, ...args]);

  beforeAll(async () => {
    clusters = await startClusters(2);
    await kubectl(["--kubeconfig", clusters[1]!.kubeconfigPath, "create", "namespace", "team-b"]);
    fx = await startGatewayFixture(clusters, { "cluster-1": { env: "dev" }, "cluster-2": { env: "prod" } }, [
      {
        name: "gone",
        labels: { env: "dev" },
        server: "https://127.0.0.1:1",
        insecureSkipTLSVerify: true,
        token: "x",
      },
    ]);
    alice = await fx.user("alice", ["idp:engineers"]);
    bob = await fx.user("bob");
    await fx.apply("teams", {
      kind: "Team",
      metadata: { name: "devs" },
      spec: { groups: ["idp:engineers"] },
    });
    await fx.apply("accessbindings", {
      kind: "AccessBinding",
      metadata: { name: "devs-edit-dev" },
      spec: {
        subjects: [{ kind: "Team", name: "devs" }],
        roleRef: { name: "edit" },
        clusters: { selector: { matchLabels: { env: "dev" } } },
      },
    });
    await fx.apply("accessbindings", {
      kind: "AccessBinding",
      metadata: { name: "bob-view-team-b" },
      spec: {
        subjects: [{ kind: "User", name: "bob" }],
        roleRef: { name: "view" },
        clusters: { names: ["cluster-2"] },
        namespaces: ["team-b"],
      },
    });
    const synced = await fx.gh.reconciler.runOnce();
    expect(synced.get("cluster-2")).toMatchObject({ failures: [] });
  });
  afterAll(async () => {
    await fx?.gh.close();
    await Promise.all((clusters ?? []).map((c) => c.stop()));
  });

  it("lists namespaces and runs discovery through the gateway", async () => {
    const r = await k(alice, "cluster-1", "get", "namespaces");
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/kube-system\s+Active/);
    const res = await k(alice, "cluster-1", "api-resources", "--api-group=apps", "-o", "name");
    expect(res.stdout).toContain("deployments.apps");
  });

  it("forwards as the real user: the cluster sees alice with her team, not the gateway's credential", async () => {
    const r = await k(alice, "cluster-1", "auth", "whoami", "-o", "json");
    expect(r.code).toBe(0);
    const who = JSON.parse(r.stdout).status.userInfo;
    expect(who.username).toBe("alice");
    expect(who.groups).toEqual(
      expect.arrayContaining(["idp:engineers", "gatehouse:team:devs", "system:authenticated"]),
    );
    expect(who.extra["gatehouse.io/access-key"]).toEqual(["alice-key"]);
  });

  it("creates, reads, applies (client- and server-side), patches and deletes objects", async () => {
    const cm = join(fx.dir, "cm.yaml");
    writeFileSync(
      cm,
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\n  namespace: default\ndata:\n  a: '1'\n",
    );
    expect((await k(alice, "cluster-1", "apply", "-f", cm)).code).toBe(0);
    writeFileSync(
      cm,
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\n  namespace: default\ndata:\n  a: '2'\n",
    );
    const ssa = await k(alice, "cluster-1", "apply", "--server-side", "--force-conflicts", "-f", cm);
    expect(ssa.stderr).toBe("");
    expect(ssa.stdout).toContain("configmap/applied serverside-applied");
    expect(
      (await k(alice, "cluster-1", "patch", "configmap", "applied", "-p", '{"data":{"b":"3"}}')).code,
    ).toBe(0);
    expect(
      (
        await k(
          alice,
          "cluster-1",
          "patch",
          "configmap",
          "applied",
          "--type=json",
          "-p",
          '[{"op":"add","path":"/data/c","value":"4"}]',
        )
      ).code,
    ).toBe(0);
    const got = await k(alice, "cluster-1", "get", "configmap", "applied", "-o", "jsonpath={.data}");
    expect(JSON.parse(got.stdout)).toEqual({ a: "2", b: "3", c: "4" });
    // The object really is on cluster-1, created by alice (managedFields name kubectl).
    const direct = await kubectl([
      "--kubeconfig",
      clusters[0]!.kubeconfigPath,
      "get",
      "configmap",
      "applied",
      "-o",
      "json",
    ]);
    expect(JSON.parse(direct.stdout).data.a).toBe("2");
    expect((await k(alice, "cluster-1", "delete", "configmap", "applied")).stdout).toContain("deleted");
  });

  it("pages through a list with --chunk-size", async () => {
    for (let i = 0; i < 7; i++)
      await kubectl(["--kubeconfig", clusters[0]!.kubeconfigPath, "create", "configmap", `page-${i}`]);
    const r = await k(alice, "cluster-1", "get", "configmaps", "--chunk-size=2", "-o", "name");
    expect(r.stdout.split("\n").filter((l) => l.startsWith("configmap/page-"))).toHaveLength(7);
  });

  it("streams a watch without buffering: an event arrives while the watch stays open", async () => {
    const w = spawn("kubectl", [
      "--kubeconfig",
      alice.kubeconfig,
      "--context",
      "cluster-1",
      "get",
      "configmaps",
      "-w",
      "--output-watch-events",
      "-o",
      "name",
    ]);
    let out = "";
    w.stdout.on("data", (d: Buffer) => (out += d.toString()));
    try {
      await new Promise((r) => setTimeout(r, 1500));
      await kubectl(["--kubeconfig", clusters[0]!.kubeconfigPath, "create", "configmap", "watched"]);
      const deadline = Date.now() + 10_000;
      while (!out.includes("configmap/watched") && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      expect(out).toContain("configmap/watched");
      expect(w.exitCode).toBeNull();
    } finally {
      w.kill();
    }
  });

  it("denies centrally what no binding grants, with kube-apiserver's message", async () => {
    const r = await k(
      alice,
      "cluster-1",
      "create",
      "clusterrolebinding",
      "x",
      "--clusterrole=view",
      "--user=alice",
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'clusterrolebindings.rbac.authorization.k8s.io is forbidden: User "alice" cannot create resource "clusterrolebindings" in API group "rbac.authorization.k8s.io" at the cluster scope',
    );
    const b = await k(bob, "cluster-2", "get", "pods", "-n", "default");
    expect(b.stderr).toContain(
      'pods is forbidden: User "bob" cannot list resource "pods" in API group "" in the namespace "default"',
    );
    expect((await k(bob, "cluster-2", "get", "pods", "-n", "team-b")).code).toBe(0);
  });

  it("answers can-i with the central decision", async () => {
    expect((await k(bob, "cluster-2", "auth", "can-i", "list", "pods", "-n", "team-b")).stdout.trim()).toBe(
      "yes",
    );
    expect((await k(alice, "cluster-1", "auth", "can-i", "create", "deployments")).stdout.trim()).toBe("yes");
  });

  it("says no to can-i when the cluster's own RBAC would allow but no access binding does", async () => {
    // A binding made on the cluster behind Gatehouse's back: the cluster alone would say yes.
    await kubectl([
      "--kubeconfig",
      clusters[0]!.kubeconfigPath,
      "create",
      "clusterrolebinding",
      "local-alice",
      "--clusterrole=cluster-admin",
      "--user=alice",
    ]);
    const direct = await kubectl([
      "--kubeconfig",
      clusters[0]!.kubeconfigPath,
      "auth",
      "can-i",
      "create",
      "clusterroles",
      "--as=alice",
    ]);
    expect(direct.stdout.trim()).toBe("yes");
    const r = await k(alice, "cluster-1", "auth", "can-i", "create", "clusterroles");
    expect(r.stdout.trim()).toBe("no - Gatehouse: no access binding grants this on this cluster");
    const create = await k(
      alice,
      "cluster-1",
      "create",
      "clusterrole",
      "sneaky",
      "--verb=get",
      "--resource=pods",
    );
    expect(create.stderr).toContain(
      'clusterroles.rbac.authorization.k8s.io is forbidden: User "alice" cannot create resource "clusterroles"',
    );
  });

  it("answers 404 for a cluster the user has no binding on, the same as for one that does not exist", async () => {
    const hidden = await k(alice, "cluster-2", "get", "namespaces");
    const missing = await call(fx.gh.url, fx.ca, "GET", "/k8s/clusters/nope/api/v1/namespaces", {
      headers: { authorization: `Bearer ${alice.token}` },
    });
    expect(hidden.code).toBe(1);
    expect(hidden.stderr).toContain("NotFound");
    expect(missing.status).toBe(404);
    const hiddenRaw = await call(fx.gh.url, fx.ca, "GET", "/k8s/clusters/cluster-2/api/v1/namespaces", {
      headers: { authorization: `Bearer ${alice.token}` },
    });
    expect(hiddenRaw.status).toBe(404);
    expect(hiddenRaw.json()["message"]).toBe('clusters.gatehouse.io "cluster-2" not found');
  });

  it("answers 401 before routing when there is no credential or a bad one", async () => {
    for (const headers of [
      {},
      { authorization: "Bearer ghk.Zm9v.bad" },
      { authorization: "Bearer garbage" },
    ]) {
      const r = await call(fx.gh.url, fx.ca, "GET", "/k8s/clusters/cluster-1/api", { headers });
      expect(r.status).toBe(401);
    }
  });

  it("answers 503 naming a cluster that does not answer", async () => {
    const r = await call(fx.gh.url, fx.ca, "GET", "/k8s/clusters/gone/api", {
      headers: { authorization: `Bearer ${alice.token}` },
    });
    expect(r.status).toBe(503);
    expect(r.json()["message"]).toMatch(/^cluster "gone" is unavailable: ECONNREFUSED/);
  });
});
