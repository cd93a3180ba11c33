import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { resolveConfig } from "../../src/config/index.js";
import { startGatehouse, type Gatehouse } from "../../src/server/app.js";
import type { ClusterRegistry, ClusterTarget } from "../../src/clusters/index.js";
import type { Event, EventList } from "../../src/core/audit/index.js";
import { startClusters, type TestCluster } from "../harness/clusters.js";
import { freePort } from "../harness/ports.js";
import { call } from "../server/client.js";
import { kubectl } from "../e2e/kubectl.js";
import { gatewayKubeconfig } from "../e2e/gateway-setup.js";

const API = "/apis/gatehouse.io/v1alpha1";

/**
 * A real kube-apiserver whose audit webhook backend points at Gatehouse (its CA and an access key
 * of the cluster's audit identity), with kubectl going through the Gatehouse gateway to it.
 */
describe("cluster audit webhooks: each cluster's own events in the Gatehouse store", () => {
  let clusters: TestCluster[];
  let gh: Gatehouse;
  let dir = "";
  let admin: [string, string];
  let webhookToken = "";
  let aliceToken = "";
  let kubeconfig = "";
  // Known before the cluster starts, so its first batches are accepted; filled in once it runs.
  const targets: ClusterTarget[] = [
    { name: "cluster-1", labels: {}, server: "https://127.0.0.1:1", insecureSkipTLSVerify: true },
    { name: "cluster-2", labels: {}, server: "https://127.0.0.1:1", insecureSkipTLSVerify: true },
  ];
  const registry: ClusterRegistry = {
    get: async (name) => targets.find((t) => t.name === name),
    list: async () => targets,
    invalidate: () => undefined,
  };
  const send = async (method: string, path: string, body: unknown): Promise<Record<string, unknown>> => {
    const r = await call(gh.url, gh.caFile as string, method, path, {
      auth: admin,
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.body}`);
    return r.json();
  };
  const userWithKey = async (name: string, groups: string[], clustersScope?: string[]): Promise<string> => {
    await send("POST", `${API}/users`, {
      apiVersion: "gatehouse.io/v1alpha1",
      kind: "User",
      metadata: { name },
      spec: { groups },
    });
    const key = await send("POST", `${API}/accesskeys`, {
      apiVersion: "gatehouse.io/v1alpha1",
      kind: "AccessKey",
      metadata: { name: `${name}-key` },
      spec: { user: name, ...(clustersScope ? { clusters: clustersScope } : {}) },
    });
    return (key["status"] as { token: string }).token;
  };
  const query = async (q: string): Promise<Event[]> => {
    await gh.audit.flush();
    const r = await call(gh.url, gh.caFile as string, "GET", `${API}/auditevents?${q}`, { auth: admin });
    expect(r.status).toBe(200);
    return r.json<EventList>().items;
  };
  const postEvents = (token: string, cluster: string, body: unknown) =>
    call(gh.url, gh.caFile as string, "POST", `${API}/clusters/${cluster}/auditevents`, {
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "gatehouse-audit-webhook-"));
    const port = await freePort();
    let password = "";
    gh = await startGatehouse(
      resolveConfig([{ name: "test", settings: { listen: `127.0.0.1:${port}`, dataDir: dir } }]),
      { log: pino({ level: "silent" }), now: () => Date.now(), onAdminPassword: (pw) => (password = pw) },
      () => registry,
    );
    admin = ["admin", password];
    webhookToken = await userWithKey("cluster-1-audit", ["gatehouse:audit-webhooks"], ["cluster-1"]);
    const webhookConfig = join(dir, "audit-webhook.kubeconfig");
    writeFileSync(
      webhookConfig,
      [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        "- name: gatehouse",
        "  cluster:",
        `    server: ${gh.url}${API}/clusters/cluster-1/auditevents`,
        `    certificate-authority: ${gh.caFile}`,
        "users:",
        "- name: audit",
        "  user:",
        `    token: ${webhookToken}`,
        "contexts:",
        "- name: default",
        "  context: {cluster: gatehouse, user: audit}",
        "current-context: default",
        "",
      ].join("\n"),
    );
    const policy = join(dir, "audit-policy.yaml");
    writeFileSync(policy, "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n");
    clusters = await startClusters(1, {
      extraArgs: [
        `--audit-policy-file=${policy}`,
        `--audit-webhook-config-file=${webhookConfig}`,
        "--audit-webhook-batch-max-wait=500ms",
        "--audit-webhook-initial-backoff=1s",
      ],
    });
    const c = clusters[0] as TestCluster;
    targets[0] = {
      name: c.name,
      labels: {},
      server: c.url,
      caPem: c.caPem,
      insecureSkipTLSVerify: false,
      token: c.adminToken,
    };
    aliceToken = await userWithKey("alice", []);
    await send("POST", `${API}/accessbindings`, {
      apiVersion: "gatehouse.io/v1alpha1",
      kind: "AccessBinding",
      metadata: { name: "alice-edit" },
      spec: {
        subjects: [{ kind: "User", name: "alice" }],
        roleRef: { name: "edit" },
        clusters: { names: ["cluster-1"] },
      },
    });
    await gh.reconciler.runOnce();
    kubeconfig = join(dir, "alice.kubeconfig");
    writeFileSync(
      kubeconfig,
      gatewayKubeconfig(gh.url, gh.caFile as string, ["cluster-1"], "alice", aliceToken),
    );
  });
  afterAll(async () => {
    await Promise.all((clusters ?? []).map((c) => c.stop()));
    await gh?.close();
  });

  it("stores the cluster's event for a kubectl request under the gateway event's Audit-ID", async () => {
    const r = await kubectl([
      "--kubeconfig",
      kubeconfig,
      "create",
      "configmap",
      "linked",
      "-n",
      "default",
      "--from-literal=a=b",
    ]);
    expect(r.code).toBe(0);
    const [gateway] = await query("source=gateway&user=alice&verb=create&name=linked&stage=ResponseComplete");
    expect(gateway).toBeDefined();
    const auditID = (gateway as Event).auditID;
    // Gatehouse makes time-ordered IDs (UUIDv7); the cluster takes them as they are.
    expect(auditID).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    let fromCluster: Event[] = [];
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      fromCluster = await query(`source=cluster&auditID=${auditID}&stage=ResponseComplete`);
      if (fromCluster.length > 0) break;
      await new Promise((res) => setTimeout(res, 250));
    }
    expect(fromCluster).toHaveLength(1);
    expect(fromCluster[0]).toMatchObject({
      auditID,
      verb: "create",
      impersonatedUser: { username: "alice" },
      objectRef: { resource: "configmaps", namespace: "default", name: "linked" },
      responseStatus: { code: 201 },
    });
    // One query by Audit-ID returns both sides of the request.
    const both = await query(`auditID=${auditID}&stage=ResponseComplete`);
    expect(both.map((e) => e.impersonatedUser?.username ?? e.user.username).sort()).toEqual([
      "alice",
      "alice",
    ]);
    const v = await call(gh.url, gh.caFile as string, "POST", `${API}/auditverifications`, {
      auth: admin,
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(v.json()["status"]).toMatchObject({ ok: true });
  });

  it("refuses events from anyone but the cluster's own audit identity", async () => {
    const list = { kind: "EventList", apiVersion: "audit.k8s.io/v1", metadata: {}, items: [] };
    // The webhook identity of cluster-1 cannot write cluster-2's trail.
    expect((await postEvents(webhookToken, "cluster-2", list)).status).toBe(403);
    // An ordinary user cannot, and neither can an administrator's password.
    expect((await postEvents(aliceToken, "cluster-1", list)).status).toBe(403);
    const asAdmin = await call(gh.url, gh.caFile as string, "POST", `${API}/clusters/cluster-1/auditevents`, {
      auth: admin,
      headers: { "content-type": "application/json" },
      body: JSON.stringify(list),
    });
    expect(asAdmin.status).toBe(403);
    // A member of the group whose key is not scoped to one cluster cannot either.
    const wide = await userWithKey("wide-audit", ["gatehouse:audit-webhooks"]);
    expect((await postEvents(wide, "cluster-1", list)).status).toBe(403);
    expect((await postEvents("not-a-token", "cluster-1", list)).status).toBe(401);
  });

  it("refuses a body that is not an audit.k8s.io/v1 EventList of valid events, storing nothing of it", async () => {
    const before = await gh.store.audit.count();
    expect(
      (await postEvents(webhookToken, "cluster-1", { kind: "List", apiVersion: "v1", items: [] })).status,
    ).toBe(400);
    const bad = await postEvents(webhookToken, "cluster-1", {
      kind: "EventList",
      apiVersion: "audit.k8s.io/v1",
      metadata: {},
      items: [
        {
          kind: "Event",
          apiVersion: "audit.k8s.io/v1",
          level: "Metadata",
          auditID: "x",
          stage: "ResponseComplete",
          requestURI: "/",
          verb: "get",
          user: { username: "u" },
          requestReceivedTimestamp: "2026-01-01T00:00:00.000000Z",
          stageTimestamp: "2026-01-01T00:00:00.000000Z",
        },
        { kind: "Event", apiVersion: "audit.k8s.io/v1", level: "Bogus" },
      ],
    });
    expect(bad.status).toBe(400);
    expect(bad.json()["message"]).toContain("items[1]");
    await gh.audit.flush();
    const forged = await query("auditID=x");
    expect(forged).toEqual([]);
    expect(await gh.store.audit.count()).toBeGreaterThanOrEqual(before);
  });
});
