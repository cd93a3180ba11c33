import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { kubeconfig, startClusters, type TestCluster } from "../harness/clusters.js";
import { kubectl } from "./kubectl.js";

describe("the test harness starts real, independent Kubernetes clusters", () => {
  let clusters: TestCluster[];
  beforeAll(async () => {
    clusters = await startClusters(2, { users: [{ name: "nobody", groups: ["team-x"] }] });
  });
  afterAll(async () => {
    await Promise.all((clusters ?? []).map((c) => c.stop()));
  });

  it("serves the Kubernetes version built from the Go modules", async () => {
    const r = await kubectl(["--kubeconfig", clusters[0]!.kubeconfigPath, "version", "-o", "json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).serverVersion.gitVersion).toBe("v1.37.2");
  });

  it("creates and reads back a namespace and a configmap with the real kubectl on each cluster", async () => {
    for (const [i, c] of clusters.entries()) {
      const kc = ["--kubeconfig", c.kubeconfigPath];
      expect((await kubectl([...kc, "create", "namespace", `only-on-${i}`])).code).toBe(0);
      const cm = await kubectl([
        ...kc,
        "-n",
        `only-on-${i}`,
        "create",
        "configmap",
        "cfg",
        `--from-literal=cluster=${c.name}`,
      ]);
      expect(cm.code).toBe(0);
      const got = await kubectl([
        ...kc,
        "-n",
        `only-on-${i}`,
        "get",
        "configmap",
        "cfg",
        "-o",
        "jsonpath={.data.cluster}",
      ]);
      expect(got.stdout).toBe(c.name);
    }
  });

  it("keeps the clusters independent: one cluster's namespace does not exist on the other", async () => {
    const r = await kubectl(["--kubeconfig", clusters[1]!.kubeconfigPath, "get", "namespace", "only-on-0"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('namespaces "only-on-0" not found');
  });

  it("denies an unprivileged token with RBAC's Forbidden", async () => {
    const c = clusters[0]!;
    const path = join(c.dir, "nobody.kubeconfig");
    writeFileSync(path, kubeconfig(c.name, c.url, c.caFile, "nobody", c.tokens["nobody"]!));
    const r = await kubectl(["--kubeconfig", path, "get", "secrets", "-n", "default"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'secrets is forbidden: User "nobody" cannot list resource "secrets" in API group "" in the namespace "default"',
    );
    const can = await kubectl(["--kubeconfig", path, "auth", "can-i", "list", "secrets", "-n", "default"]);
    expect(can.stdout.trim()).toBe("no");
  });

  it("rejects a wrong token with 401", async () => {
    const c = clusters[0]!;
    const path = join(c.dir, "bad.kubeconfig");
    writeFileSync(path, kubeconfig(c.name, c.url, c.caFile, "bad", "not-a-valid-token"));
    const r = await kubectl(["--kubeconfig", path, "get", "namespaces"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Unauthorized|must be logged in/);
  });
});

describe("a test cluster with kube-controller-manager", () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    [cluster] = (await startClusters(1, { controllerManager: true })) as [TestCluster];
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it("finalizes namespace deletion, which a bare kube-apiserver never does", async () => {
    const kc = ["--kubeconfig", cluster.kubeconfigPath];
    expect((await kubectl([...kc, "create", "namespace", "doomed"])).code).toBe(0);
    expect(
      (await kubectl([...kc, "-n", "doomed", "create", "configmap", "c", "--from-literal=a=b"])).code,
    ).toBe(0);
    const del = await kubectl([...kc, "delete", "namespace", "doomed", "--wait=true", "--timeout=60s"]);
    expect(del.code).toBe(0);
    const get = await kubectl([...kc, "get", "namespace", "doomed"]);
    expect(get.stderr).toContain('namespaces "doomed" not found');
  });

  it("creates the default service account in new namespaces", async () => {
    const kc = ["--kubeconfig", cluster.kubeconfigPath];
    await kubectl([...kc, "create", "namespace", "with-sa"]);
    let found = false;
    for (let i = 0; i < 60 && !found; i++) {
      found = (await kubectl([...kc, "-n", "with-sa", "get", "serviceaccount", "default"])).code === 0;
      if (!found) await new Promise((r) => setTimeout(r, 500));
    }
    expect(found).toBe(true);
  });
});
