import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { resolveConfig } from "../../src/config/index.js";
import { startGatehouse, type Gatehouse } from "../../src/server/app.js";
import type { ClusterTarget } from "../../src/clusters/index.js";
import { DEFAULT_WEBHOOK_OPTIONS, loadWebhookTarget } from "../../src/audit/index.js";
import { startClusters, type TestCluster } from "../harness/clusters.js";
import { call } from "../server/client.js";
import { WebhookReceiver } from "./webhook-receiver.js";

const API = "/apis/gatehouse.io/v1alpha1";
const BUFFER = 40;

/**
 * In blocking-strict mode only the store gates a request: the webhook is fed from committed events
 * through its own bounded buffer, so a webhook that hangs, is down or answers 500 never holds a
 * request, memory stays at the buffer, overflow is counted, and the buffer is delivered on recovery.
 */
describe("a slow, down or failing audit webhook never blocks requests in blocking-strict mode", () => {
  let cluster: TestCluster;
  let gh: Gatehouse;
  let token = "";
  const rx = new WebhookReceiver();
  const get = (i: number) =>
    call(
      gh.url,
      gh.caFile as string,
      "GET",
      `/k8s/clusters/cluster-1/api/v1/namespaces/default/configmaps?i=${i}`,
      {
        headers: { authorization: `Bearer ${token}` },
      },
    );
  const dropped = async (): Promise<number> =>
    (await gh.audit.metrics.sinkDropped.get()).values
      .filter((v) => v.labels["sink"] === "webhook" && v.labels["reason"] === "queue_full")
      .reduce((a, v) => a + v.value, 0);
  const until = async (f: () => boolean | Promise<boolean>, what: string): Promise<void> => {
    const end = Date.now() + 20_000;
    while (!(await f())) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  beforeAll(async () => {
    [cluster] = (await startClusters(1)) as [TestCluster];
    const target: ClusterTarget = {
      name: cluster.name,
      labels: {},
      server: cluster.url,
      caPem: cluster.caPem,
      insecureSkipTLSVerify: false,
      token: cluster.adminToken,
    };
    await rx.start();
    rx.mode = "slow";
    rx.slowMs = 600_000; // hangs: every batch times out
    const dir = mkdtempSync(join(tmpdir(), "gh-audit-wh-"));
    const config = resolveConfig([
      { name: "test", settings: { listen: "127.0.0.1:0", dataDir: dir, auditMode: "blocking-strict" } },
    ]);
    let password = "";
    gh = await startGatehouse(
      config,
      { log: pino({ level: "silent" }), now: () => Date.now(), onAdminPassword: (p) => (password = p) },
      () => ({
        get: async (n) => (n === target.name ? target : undefined),
        list: async () => [target],
        invalidate: () => undefined,
      }),
      {
        ...config.audit,
        webhook: {
          target: loadWebhookTarget(rx.kubeconfig),
          options: {
            ...DEFAULT_WEBHOOK_OPTIONS,
            maxQueue: BUFFER,
            maxBatchSize: 10,
            maxWaitMs: 20,
            initialBackoffMs: 50,
            maxBackoffMs: 200,
            timeoutMs: 300,
          },
        },
      },
    );
    const post = async (path: string, body: Record<string, unknown>) => {
      const r = await call(gh.url, gh.caFile as string, "POST", `${API}/${path}`, {
        auth: ["admin", password],
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ apiVersion: "gatehouse.io/v1alpha1", ...body }),
      });
      expect(r.status, r.body).toBeLessThan(300);
      return r.json();
    };
    await post("users", { kind: "User", metadata: { name: "dev" }, spec: {} });
    const key = await post("accesskeys", {
      kind: "AccessKey",
      metadata: { name: "dev-key" },
      spec: { user: "dev" },
    });
    token = (key["status"] as { token: string }).token;
    await post("accessbindings", {
      kind: "AccessBinding",
      metadata: { name: "dev-view" },
      spec: {
        subjects: [{ kind: "User", name: "dev" }],
        roleRef: { name: "view" },
        clusters: { names: ["cluster-1"] },
      },
    });
    await gh.reconciler.runOnce();
  });
  afterAll(async () => {
    await gh?.close();
    await rx.stop();
    await cluster?.stop();
  });

  it("serves every request while the webhook hangs; the store has every event, the webhook buffer stays bounded", async () => {
    await gh.audit.flush(); // the setup's own events (its management requests) are stored first
    const before = await gh.store.audit.count();
    for (let i = 0; i < 60; i++) expect((await get(i)).status).toBe(200);
    // RequestReceived is committed before each request is forwarded (blocking-strict); ResponseComplete
    // after its response has gone, so the last one may still be on its way to the store.
    await gh.audit.flush();
    expect((await gh.store.audit.count()) - before).toBe(120);
    expect(rx.events).toEqual([]);
    expect(gh.audit.webhook?.pending).toBeLessThanOrEqual(BUFFER);
    expect(await dropped()).toBeGreaterThanOrEqual(120 - BUFFER);
  });

  it("serves while the webhook is down and while it answers 500, still bounded and counted", async () => {
    await rx.stop();
    // The last request's ResponseComplete is committed (and handed to the sink) after its response.
    await gh.audit.flush();
    const d0 = await dropped();
    for (let i = 0; i < 20; i++) expect((await get(100 + i)).status).toBe(200);
    await gh.audit.flush();
    expect(gh.audit.webhook?.pending).toBe(BUFFER);
    expect((await dropped()) - d0).toBe(40);
    rx.mode = "error";
    await rx.start();
    for (let i = 0; i < 5; i++) expect((await get(200 + i)).status).toBe(200);
    expect(gh.audit.webhook?.pending).toBe(BUFFER);
    expect(rx.events).toEqual([]);
  });

  it("delivers what the buffer holds when the webhook recovers, in chain order", async () => {
    rx.mode = "ok";
    await until(() => gh.audit.webhook?.pending === 0, "the buffer to drain");
    expect(rx.events.length).toBe(BUFFER);
    // The buffer keeps the oldest events and drops newer ones while full (kube-apiserver's buffer).
    const ids = rx.events.map((e) => `${e.auditID} ${e.stage}`);
    expect(new Set(ids).size).toBe(BUFFER);
    // A request now reaches the webhook again.
    expect((await get(999)).status).toBe(200);
    await until(() => rx.events.some((e) => e.requestURI.endsWith("i=999")), "the new request's events");
  });
});
