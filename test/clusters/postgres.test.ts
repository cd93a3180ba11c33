import pg from "pg";
import { pino } from "pino";
import { startHealthChecks } from "../../src/clusters/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startClusters, type TestCluster } from "../harness/clusters.js";
import { freshPostgresDatabase } from "../harness/databases.js";
import { kubectl } from "../e2e/kubectl.js";
import { eventually, startFixture, type GatehouseFixture } from "./fixture.js";

interface Health {
  ready: boolean;
  message: string;
}

describe("gatehouse cluster with Gatehouse on PostgreSQL", { timeout: 120_000 }, () => {
  let cluster: TestCluster;
  let gh: GatehouseFixture;
  let url = "";

  beforeAll(async () => {
    url = await freshPostgresDatabase();
    [cluster] = (await startClusters(1, { name: "kube-pg" })) as [TestCluster];
    gh = await startFixture({ database: url });
  });
  afterAll(async () => {
    await gh?.stop();
    await cluster?.stop();
  });

  const health = async (): Promise<Health | undefined> =>
    (
      (await gh.api("GET", "/apis/gatehouse.io/v1alpha1/clusters/pg-one")).json()["status"] as {
        health?: Health;
      }
    ).health;

  let token = "";
  it("adds and health-checks a cluster", async () => {
    const add = await gh.cli([
      "cluster",
      "add",
      "pg-one",
      "--kubeconfig",
      cluster.kubeconfigPath,
      "--label",
      "env=ci",
    ]);
    expect(add.stderr).toBe("");
    expect(add.code).toBe(0);
    token = (await gh.registry().get("pg-one"))?.token as string;
    expect(token).toMatch(/^eyJ/);

    await eventually(async () => ((await health())?.ready ? true : undefined), 30_000, "pg-one to be ready");
    const table = (await gh.cli(["cluster", "list"])).stdout;
    expect(table).toMatch(/pg-one\s.*v1\.37\.2\s+True\s+env=ci/);
    expect(table).toContain(cluster.url);
  });

  it("stores the credential encrypted in PostgreSQL", async () => {
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    try {
      const rows = await db.query<{ body: string }>("select body from objects where kind = 'Cluster'");
      expect(rows.rows).toHaveLength(1);
      const body = rows.rows[0]?.body as string;
      expect(body).not.toContain(token);
      expect(body).not.toContain(cluster.adminToken);
      expect(body).toMatch(/"ciphertext":"v1:key-[0-9a-f]{8}:/);
    } finally {
      await db.end();
    }
  });

  it("shows a revoked token as not ready", async () => {
    // Deleting the service account revokes its tokens (the API server may cache a good token for a
    // few seconds). A second checker with a short interval, on the same store, notices it.
    await kubectl([
      "--kubeconfig",
      cluster.kubeconfigPath,
      "delete",
      "serviceaccount",
      "gatehouse-gateway",
      "-n",
      "gatehouse-system",
    ]);
    const stop = startHealthChecks(gh.registry(), gh.gh.store, {
      intervalMs: 500,
      log: pino({ level: "silent" }),
    });
    try {
      const h = await eventually(
        async () => {
          const x = await health();
          return x && !x.ready ? x : undefined;
        },
        30_000,
        "the revoked token to be noticed",
      );
      expect(h.message).toContain("rejected the stored credential (401 Unauthorized)");
    } finally {
      await stop();
    }
    // Status writes never touched the spec or labels.
    const t = await gh.registry().get("pg-one");
    expect(t).toMatchObject({ token, server: cluster.url, labels: { env: "ci" } });
  });
});
