import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { ConfigError, resolveConfig } from "../../src/config/index.js";
import { startGatehouse, type Gatehouse } from "../../src/server/app.js";
import type { ClusterTarget } from "../../src/clusters/index.js";
import type { Event, EventList } from "../../src/core/audit/index.js";
import { startClusters, type TestCluster } from "../harness/clusters.js";
import { DEFAULT_WEBHOOK_OPTIONS, loadWebhookTarget } from "../../src/audit/index.js";
import { WebhookReceiver } from "./webhook-receiver.js";
import { call } from "../server/client.js";

const API = "/apis/gatehouse.io/v1alpha1";
const POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: None
  users: [quiet]
- level: RequestResponse
  resources: [{group: "", resources: [configmaps]}]
- level: Metadata
`;

describe("audit settings: policy file and mode from the configuration", () => {
  it("refuses an unknown mode, a policy file that is not a policy, and bad retention, naming each", () => {
    const dir = mkdtempSync(join(tmpdir(), "gh-audit-cfg-"));
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: []\n");
    let err: unknown;
    try {
      resolveConfig([
        {
          name: "flags",
          settings: {
            dataDir: dir,
            auditMode: "eventually",
            auditPolicyFile: bad,
            auditMaxAge: "forever",
            auditQueueSize: "5",
          },
        },
      ]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const text = (err as Error).message;
    expect(text).toContain("auditMode (from flags): expected one of batch, blocking, blocking-strict");
    expect(text).toContain(`auditPolicyFile (from flags): ${bad}`);
    expect(text).toContain("auditMaxAge (from flags)");
    expect(text).toContain("auditQueueSize (from flags)");
  });

  it("defaults to batch mode, every request at Metadata, no retention", () => {
    const c = resolveConfig([
      { name: "t", settings: { dataDir: mkdtempSync(join(tmpdir(), "gh-audit-cfg-")) } },
    ]);
    expect(c.audit).toMatchObject({
      mode: "batch",
      policies: {},
      maxQueue: 10_000,
      retention: { intervalMs: 60_000 },
    });
    expect(c.audit.retention.maxAgeMs).toBeUndefined();
  });
});

describe("audit levels from a policy file, through the gateway to a real cluster", () => {
  let clusters: TestCluster[];
  let gh: Gatehouse;
  let admin: [string, string];
  const rx = new WebhookReceiver();
  const tokens: Record<string, string> = {};
  const as = (who: string, method: string, path: string, body?: unknown) =>
    call(gh.url, gh.caFile as string, method, `/k8s/clusters/cluster-1${path}`, {
      headers: {
        authorization: `Bearer ${tokens[who]}`,
        "content-type": "application/json",
        accept: "application/json",
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  const events = async (q: string): Promise<Event[]> => {
    await gh.audit.flush();
    const r = await call(gh.url, gh.caFile as string, "GET", `${API}/auditevents?${q}`, { auth: admin });
    return r.json<EventList>().items;
  };

  beforeAll(async () => {
    clusters = await startClusters(1);
    const c = clusters[0] as TestCluster;
    const target: ClusterTarget = {
      name: c.name,
      labels: {},
      server: c.url,
      caPem: c.caPem,
      insecureSkipTLSVerify: false,
      token: c.adminToken,
    };
    const dir = mkdtempSync(join(tmpdir(), "gh-audit-levels-"));
    writeFileSync(join(dir, "policy.yaml"), POLICY);
    let password = "";
    await rx.start();
    rx.mode = "error";
    const config = resolveConfig([
      {
        name: "test",
        settings: {
          listen: "127.0.0.1:0",
          dataDir: dir,
          auditPolicyFile: join(dir, "policy.yaml"),
          auditMode: "blocking",
        },
      },
    ]);
    gh = await startGatehouse(
      config,
      { log: pino({ level: "silent" }), now: () => Date.now(), onAdminPassword: (p) => (password = p) },
      () => ({
        get: async (n) => (n === target.name ? target : undefined),
        list: async () => [target],
        invalidate: () => undefined,
      }),
      // The webhook retries quickly here; its other settings are kube-apiserver's defaults.
      {
        ...config.audit,
        webhook: {
          target: loadWebhookTarget(rx.kubeconfig),
          options: { ...DEFAULT_WEBHOOK_OPTIONS, maxWaitMs: 50, initialBackoffMs: 50, maxBackoffMs: 200 },
        },
      },
    );
    admin = ["admin", password];
    const post = async (path: string, body: Record<string, unknown>) => {
      const r = await call(gh.url, gh.caFile as string, "POST", `${API}/${path}`, {
        auth: admin,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ apiVersion: "gatehouse.io/v1alpha1", ...body }),
      });
      expect(r.status, r.body).toBeLessThan(300);
      return r.json();
    };
    for (const name of ["loud", "quiet"]) {
      await post("users", { kind: "User", metadata: { name }, spec: {} });
      const key = await post("accesskeys", {
        kind: "AccessKey",
        metadata: { name: `${name}-key` },
        spec: { user: name },
      });
      tokens[name] = (key["status"] as { token: string }).token;
    }
    await post("accessbindings", {
      kind: "AccessBinding",
      metadata: { name: "edit" },
      spec: {
        subjects: [
          { kind: "User", name: "loud" },
          { kind: "User", name: "quiet" },
        ],
        roleRef: { name: "edit" },
        clusters: { names: ["cluster-1"] },
      },
    });
    await gh.reconciler.runOnce();
  });
  afterAll(async () => {
    await gh?.close();
    await rx.stop();
    await Promise.all((clusters ?? []).map((c) => c.stop()));
  });

  it("records request and response bodies at RequestResponse, without the stages the policy omits", async () => {
    const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "bodies" }, data: { k: "v" } };
    expect((await as("loud", "POST", "/api/v1/namespaces/default/configmaps", cm)).status).toBe(201);
    expect((await as("loud", "GET", "/api/v1/namespaces/default/configmaps/bodies")).status).toBe(200);
    const found = await events("user=loud&resource=configmaps");
    expect(found.map((e) => [e.verb, e.stage])).toEqual([
      ["create", "ResponseComplete"],
      ["get", "ResponseComplete"],
    ]);
    const [create, get] = found as [Event, Event];
    expect(create.level).toBe("RequestResponse");
    expect(create.requestObject).toMatchObject({ kind: "ConfigMap", data: { k: "v" } });
    expect(create.responseObject).toMatchObject({
      kind: "ConfigMap",
      metadata: { name: "bodies", uid: expect.any(String) },
    });
    expect(create.objectRef).toMatchObject({ name: "bodies", namespace: "default" });
    expect(get.requestObject).toBeUndefined();
    expect(get.responseObject).toMatchObject({ kind: "ConfigMap", data: { k: "v" } });
  });

  it("records other resources at Metadata and nothing for a user the policy silences", async () => {
    expect((await as("loud", "GET", "/api/v1/namespaces/default/secrets")).status).toBe(200);
    const [list] = await events("user=loud&resource=secrets");
    expect(list).toMatchObject({ level: "Metadata", annotations: { "gatehouse.io/impact": "privileged" } });
    expect(list?.responseObject).toBeUndefined();
    expect((await as("quiet", "GET", "/api/v1/namespaces/default/configmaps")).status).toBe(200);
    expect(await events("user=quiet&source=gateway")).toEqual([]);
  });

  it("keeps serving while its audit webhook answers 500, and delivers the stored events when it recovers", async () => {
    // Every request so far was served while the webhook refused every batch.
    expect(rx.events).toEqual([]);
    expect(gh.audit.webhook?.pending).toBeGreaterThan(0);
    expect((await as("loud", "GET", "/api/v1/namespaces/default/configmaps/bodies")).status).toBe(200);
    await gh.audit.flush();
    const stored = (await gh.store.audit.links(0, 10_000))
      .map((l) => JSON.parse(l.json) as Event)
      .map((e) => e.auditID + e.stage);
    rx.mode = "ok";
    const deadline = Date.now() + 10_000;
    while (rx.events.length < stored.length && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(rx.events.map((e) => e.auditID + e.stage)).toEqual(stored);
  });
});
