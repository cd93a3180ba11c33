import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startClusters, type TestCluster } from "../harness/clusters.js";
import { gatehouse } from "../cli/run.js";
import { kubectl } from "./kubectl.js";
import { startGatewayFixture, type GatewayFixture } from "./gateway-setup.js";

describe("gatehouse get RESOURCE --clusters SELECTOR: one read across clusters", () => {
  let clusters: TestCluster[];
  let fx: GatewayFixture;
  const password = "carols-long-password";
  const conn = (): string[] => [
    "--server",
    fx.gh.url,
    "--username",
    "carol",
    "--password-stdin",
    "--certificate-authority",
    fx.ca,
  ];

  beforeAll(async () => {
    clusters = await startClusters(2);
    fx = await startGatewayFixture(clusters, { "cluster-1": { env: "dev" }, "cluster-2": { env: "prod" } }, [
      {
        name: "gone",
        labels: { env: "dev" },
        server: "https://127.0.0.1:1",
        insecureSkipTLSVerify: true,
        token: "x",
      },
    ]);
    await fx.apply("users", { kind: "User", metadata: { name: "carol" }, spec: { password } });
    await fx.apply("accessbindings", {
      kind: "AccessBinding",
      metadata: { name: "carol-view-everywhere" },
      spec: {
        subjects: [{ kind: "User", name: "carol" }],
        roleRef: { name: "view" },
        clusters: { selector: { matchExpressions: [{ key: "env", operator: "Exists" }] } },
      },
    });
    for (const c of clusters) {
      await kubectl(["--kubeconfig", c.kubeconfigPath, "create", "namespace", "apps"]);
      await kubectl([
        "--kubeconfig",
        c.kubeconfigPath,
        "-n",
        "apps",
        "create",
        "configmap",
        `settings-${c.name}`,
        "--from-literal=a=b",
      ]);
    }
    // cluster-1 and cluster-2 get the RBAC; "gone" cannot be reached and is reported.
    await fx.gh.reconciler.runOnce();
  });
  afterAll(async () => {
    await fx?.gh.close();
    await Promise.all((clusters ?? []).map((c) => c.stop()));
  });

  it("prints one table with a CLUSTER column and reports the cluster that failed, exiting 3", async () => {
    const r = await gatehouse(["get", "configmaps", "--clusters", "env", "-A", ...conn()], {
      input: password,
    });
    expect(r.code).toBe(3);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^CLUSTER\s+NAMESPACE\s+NAME\s+DATA\s+AGE$/);
    expect(r.stdout).toMatch(/cluster-1\s+apps\s+settings-cluster-1\s+1\s+/);
    expect(r.stdout).toMatch(/cluster-2\s+apps\s+settings-cluster-2\s+1\s+/);
    expect(r.stderr).toContain("error: cluster gone:");
    expect(r.stderr).toContain('cluster "gone" is unavailable: ECONNREFUSED');
  });

  it("selects clusters by label and namespace, and prints a List with the cluster on each item", async () => {
    const r = await gatehouse(
      ["get", "cm", "--clusters", "env=prod", "-n", "apps", "-o", "json", ...conn()],
      { input: password },
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const list = JSON.parse(r.stdout) as {
      kind: string;
      items: { kind: string; metadata: { name: string; annotations: Record<string, string> } }[];
    };
    expect(list.kind).toBe("List");
    expect(
      list.items.map((i) => [i.kind, i.metadata.name, i.metadata.annotations["gatehouse.io/cluster"]]),
    ).toEqual([["ConfigMap", "settings-cluster-2", "cluster-2"]]);
  });

  it("says so when no reachable cluster matches, exiting 1", async () => {
    const r = await gatehouse(["get", "pods", "--clusters", "env=staging", ...conn()], { input: password });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no cluster you can reach matches --clusters "env=staging"');
  });
});
