import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync, writeFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { join } from "node:path";
import type { Event, EventList } from "../../src/core/audit/index.js";
import type { ClusterTarget } from "../../src/clusters/index.js";
import { startClusters, type TestCluster } from "../harness/clusters.js";
import { call } from "../server/client.js";
import { kubectl } from "../e2e/kubectl.js";
import { gatehouse } from "../cli/run.js";
import { startGatewayFixture, type GatewayFixture } from "../e2e/gateway-setup.js";

const API = "/apis/gatehouse.io/v1alpha1";

describe("failed authentication, per-cluster policies and discovery (real cluster, real kubectl)", () => {
  let clusters: TestCluster[];
  let fx: GatewayFixture;
  let alice: { token: string; kubeconfig: string };
  const events = async (query: string): Promise<Event[]> => {
    await fx.gh.audit.flush();
    const r = await call(fx.gh.url, fx.ca, "GET", `${API}/auditevents?${query}`, { auth: fx.admin });
    expect(r.status).toBe(200);
    return r.json<EventList>().items;
  };
  const get = (path: string, headers: Record<string, string> = {}) =>
    call(fx.gh.url, fx.ca, "GET", path, { headers });
  const cli = (args: string[], input?: string) =>
    gatehouse(
      [
        ...args,
        "--server",
        fx.gh.url,
        "--username",
        "admin",
        "--password-stdin",
        "--certificate-authority",
        fx.ca,
      ],
      { input: input ?? fx.admin[1] },
    );
  const metric = async (outcome: string): Promise<number> =>
    (await fx.gh.audit.metrics.unauthenticated.get()).values.find((v) => v.labels["outcome"] === outcome)
      ?.value ?? 0;

  beforeAll(async () => {
    clusters = await startClusters(1);
    const c = clusters[0]!;
    // A second name for the same real cluster, so two clusters can have different policies.
    const twin: ClusterTarget = {
      name: "cluster-twin",
      labels: {},
      server: c.url,
      caPem: c.caPem,
      insecureSkipTLSVerify: false,
      token: c.adminToken,
    };
    fx = await startGatewayFixture(clusters, {}, [twin]);
    alice = await fx.user("alice");
    await fx.bind("alice-view", ["alice"], "view", ["cluster-1", "cluster-twin"]);
    await fx.gh.reconciler.runOnce();
  });
  afterAll(async () => {
    await fx?.gh.close();
    await Promise.all((clusters ?? []).map((c) => c.stop()));
  });

  describe("requests that fail authentication are audited as kube-apiserver audits them", () => {
    it("records a bad bearer token through the gateway: ResponseStarted, user {}, 401, the methods tried", async () => {
      const r = await get("/k8s/clusters/cluster-1/api/v1/namespaces/default/pods?limit=5", {
        authorization: "Bearer not-a-real-token",
        "user-agent": "attacker/1.0",
      });
      expect(r.status).toBe(401);
      const auditID = r.headers["audit-id"];
      const [e, ...more] = await events(`code=401&cluster=cluster-1`);
      expect(more).toEqual([]);
      expect(e).toMatchObject({
        kind: "Event",
        apiVersion: "audit.k8s.io/v1",
        level: "Metadata",
        stage: "ResponseStarted",
        requestURI: "/api/v1/namespaces/default/pods?limit=5",
        verb: "list",
        user: {},
        userAgent: "attacker/1.0",
        objectRef: { resource: "pods", namespace: "default", apiVersion: "v1" },
        responseStatus: { metadata: {}, message: "Authentication failed, attempted: bearer", code: 401 },
        annotations: { "gatehouse.io/cluster": "cluster-1", "gatehouse.io/impact": "read" },
      });
      if (typeof auditID === "string") expect(e?.auditID).toBe(auditID);
      expect(e?.sourceIPs?.[0]).toMatch(/127\.0\.0\.1$/);
      expect(e?.responseStatus).not.toHaveProperty("status");
      // Only ResponseStarted, as kube-apiserver: no RequestReceived or ResponseComplete for a 401.
      expect(await events(`auditID=${e?.auditID}`)).toHaveLength(1);
    });

    it("says when no credentials were sent, and audits the management API's 401s too", async () => {
      expect((await get(`${API}/users`)).status).toBe(401);
      const [e] = await events("code=401&source=gatehouse");
      expect(e).toMatchObject({
        stage: "ResponseStarted",
        verb: "list",
        user: {},
        responseStatus: { message: "Authentication failed, no credentials provided", code: 401 },
      });
      expect(e?.annotations?.["gatehouse.io/cluster"]).toBeUndefined();
    });

    it("records kubectl's failed request with a wrong token (the real client)", async () => {
      const bad = join(fx.dir, "bad.kubeconfig");
      writeFileSync(bad, readFileSync(alice.kubeconfig, "utf8").replace(alice.token, "x".repeat(40)));
      const r = await kubectl([
        "--kubeconfig",
        bad,
        "--context",
        "cluster-1",
        "get",
        "configmaps",
        "-n",
        "kube-system",
      ]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/Unauthorized|provide credentials/);
      // kubectl stops at discovery (GET /api) when it is refused: that is what is recorded.
      const found = (await events("code=401&cluster=cluster-1")).filter((e) =>
        e.userAgent?.startsWith("kubectl"),
      );
      expect(found.length).toBeGreaterThan(0);
      expect(found[0]).toMatchObject({ stage: "ResponseStarted", user: {}, responseStatus: { code: 401 } });
      expect(found[0]?.responseStatus?.message).toBe("Authentication failed, attempted: bearer");
    });

    it("does not let one source flood the store: beyond the per-source burst 401s are counted, not stored", async () => {
      // A source of its own (127.0.0.2 is this host too), so earlier tests' requests do not count.
      const from2 = (path: string) =>
        new Promise<number>((resolve, reject) => {
          const u = new URL(fx.gh.url);
          const req = httpsRequest(
            {
              host: u.hostname,
              port: u.port,
              path,
              localAddress: "127.0.0.2",
              ca: readFileSync(fx.ca),
              servername: "localhost",
              agent: false,
              headers: { authorization: "Bearer guessing" },
            },
            (res) => {
              res.resume();
              res.on("end", () => resolve(res.statusCode ?? 0));
            },
          );
          req.on("error", reject);
          req.end();
        });
      const recordedBefore = await metric("recorded");
      const suppressedBefore = await metric("suppressed");
      const t0 = Date.now();
      const N = 60;
      for (let i = 0; i < N; i++)
        expect(await from2(`/k8s/clusters/cluster-1/api/v1/namespaces/flood-${i}/secrets`)).toBe(401);
      const seconds = (Date.now() - t0) / 1000;
      const recorded = (await metric("recorded")) - recordedBefore;
      const suppressed = (await metric("suppressed")) - suppressedBefore;
      expect(recorded + suppressed).toBe(N);
      // A burst of 20, then one a second (the default limits).
      expect(recorded).toBeLessThanOrEqual(20 + Math.ceil(seconds));
      expect(suppressed).toBeGreaterThan(0);
      // The source's bucket refills at one event a second; the next recorded event says how many were not.
      await new Promise((r) => setTimeout(r, 1100));
      expect(await from2("/k8s/clusters/cluster-1/api/v1/nodes")).toBe(401);
      const stored = (await events("code=401&limit=5000")).filter((e) =>
        e.sourceIPs?.[0]?.endsWith("127.0.0.2"),
      );
      expect(stored).toHaveLength(recorded + 1);
      const told = stored.reduce(
        (n, e) => n + Number(e.annotations?.["gatehouse.io/unauthenticated-suppressed"] ?? 0),
        0,
      );
      expect(told).toBe(suppressed);
      expect(stored[stored.length - 1]?.objectRef?.resource).toBe("nodes");
      expect(
        Number(stored[stored.length - 1]?.annotations?.["gatehouse.io/unauthenticated-suppressed"]),
      ).toBeGreaterThan(0);
    });

    it("keeps answering authenticated users while a source is being suppressed", async () => {
      const r = await get("/k8s/clusters/cluster-1/api/v1/namespaces/default/configmaps", {
        authorization: `Bearer ${alice.token}`,
      });
      expect(r.status).toBe(200);
    });
  });

  describe("a policy per cluster (AuditPolicy objects, gatehouse audit policy)", () => {
    const policyFile = (text: string): string => {
      const p = join(fx.dir, `policy-${Math.random().toString(36).slice(2)}.yaml`);
      writeFileSync(p, text);
      return p;
    };
    const aliceGet = (cluster: string, ns: string) =>
      get(`/k8s/clusters/${cluster}/api/v1/namespaces/${ns}/configmaps`, {
        authorization: `Bearer ${alice.token}`,
      });
    /** Policy changes apply on this replica right after the write returns (plus a refresh). */
    const settle = () => fx.gh.audit.clusterPolicies.refresh();

    it("refuses a policy with no rules or with invalid rules, naming the problem (exit 2)", async () => {
      const empty = await cli([
        "audit",
        "policy",
        "set",
        "cluster-1",
        "-f",
        policyFile("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: []\n"),
      ]);
      expect(empty.code).toBe(2);
      expect(empty.stderr).toContain("a policy with 0 rules is refused");
      // The server refuses it too (a client that skips the CLI's check).
      const r = await call(fx.gh.url, fx.ca, "POST", `${API}/auditpolicies`, {
        auth: fx.admin,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          apiVersion: "gatehouse.io/v1alpha1",
          kind: "AuditPolicy",
          metadata: { name: "cluster-1" },
          spec: { rules: [{ level: "Loud" }] },
        }),
      });
      expect(r.status).toBe(422);
      expect(r.body).toContain("rules[0].level");
      const none = await call(fx.gh.url, fx.ca, "POST", `${API}/auditpolicies`, {
        auth: fx.admin,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          apiVersion: "gatehouse.io/v1alpha1",
          kind: "AuditPolicy",
          metadata: { name: "cluster-1" },
          spec: {},
        }),
      });
      expect(none.status).toBe(422);
      expect(none.body).toContain("0 rules");
    });

    it("applies a cluster's policy to that cluster only; the others keep the global one", async () => {
      const set = await cli([
        "audit",
        "policy",
        "set",
        "cluster-twin",
        "-f",
        policyFile(`apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: None
  namespaces: [kube-public]
- level: RequestResponse
  resources: [{group: "", resources: [configmaps]}]
`),
      ]);
      expect(set.code, set.stderr).toBe(0);
      expect(set.stdout).toBe("auditpolicy.gatehouse.io/cluster-twin created\n");
      await settle();
      expect((await aliceGet("cluster-twin", "default")).status).toBe(200);
      expect((await aliceGet("cluster-twin", "kube-public")).status).toBe(200);
      expect((await aliceGet("cluster-1", "kube-node-lease")).status).toBe(200);
      const twin = await events("cluster=cluster-twin&user=alice&resource=configmaps");
      expect(twin.map((e) => `${e.stage} ${e.level} ${e.objectRef?.namespace}`)).toEqual([
        "ResponseComplete RequestResponse default",
      ]);
      expect(twin[0]?.responseObject).toMatchObject({ kind: "ConfigMapList" });
      const one = await events("cluster=cluster-1&user=alice&resource=configmaps&namespace=kube-node-lease");
      // The global (default) policy: Metadata, every stage.
      expect(one.map((e) => `${e.stage} ${e.level}`)).toEqual([
        "RequestReceived Metadata",
        "ResponseComplete Metadata",
      ]);
      expect(one[1]?.responseObject).toBeUndefined();
    });

    it("applies a cluster's policy to its failed authentications too (no user: user rules never match)", async () => {
      expect(
        (
          await get("/k8s/clusters/cluster-twin/api/v1/namespaces/kube-public/configmaps", {
            authorization: "Bearer nope",
          })
        ).status,
      ).toBe(401);
      expect(
        (
          await get("/k8s/clusters/cluster-twin/api/v1/namespaces/default/configmaps", {
            authorization: "Bearer nope",
          })
        ).status,
      ).toBe(401);
      const e = await events("cluster=cluster-twin&code=401");
      expect(e.map((x) => `${x.level} ${x.objectRef?.namespace}`)).toEqual(["RequestResponse default"]);
    });

    it("prints, replaces, lists and deletes it with the CLI; deleting brings back the global policy", async () => {
      const got = await cli(["audit", "policy", "get", "cluster-twin"]);
      expect(got.code, got.stderr).toBe(0);
      expect(got.stdout).toContain("kind: Policy");
      expect(got.stdout).toContain("RequestResponse");
      const again = await cli([
        "audit",
        "policy",
        "set",
        "cluster-twin",
        "-f",
        policyFile(`apiVersion: audit.k8s.io/v1
kind: Policy
rules:
- level: None
`),
      ]);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toContain("configured");
      const list = await cli(["audit", "policy", "list"]);
      expect(list.stdout).toMatch(/CLUSTER\s+RULES/);
      expect(list.stdout).toMatch(/cluster-twin\s+1\s/);
      await settle();
      const before = (await events("cluster=cluster-twin&user=alice")).length;
      expect((await aliceGet("cluster-twin", "default")).status).toBe(200);
      expect((await events("cluster=cluster-twin&user=alice")).length).toBe(before);
      const del = await cli(["audit", "policy", "delete", "cluster-twin"]);
      expect(del.code, del.stderr).toBe(0);
      await settle();
      expect((await aliceGet("cluster-twin", "default")).status).toBe(200);
      expect((await events("cluster=cluster-twin&user=alice")).length).toBe(before + 2);
      const missing = await cli(["audit", "policy", "get", "cluster-twin"]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain("uses the global policy");
    });

    it("is for administrators only", async () => {
      const r = await get(`${API}/auditpolicies`, { authorization: `Bearer ${alice.token}` });
      expect(r.status).toBe(403);
    });
  });

  it("lists the audit and session resources in discovery, so kubectl api-resources shows them", async () => {
    const kc = join(fx.dir, "admin-api.kubeconfig");
    writeFileSync(
      kc,
      [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        "- name: gh",
        "  cluster:",
        `    server: ${fx.gh.url}`,
        `    certificate-authority: ${fx.ca}`,
        "users:",
        "- name: admin",
        "  user:",
        "    username: admin",
        `    password: ${fx.admin[1]}`,
        "contexts:",
        "- name: gh",
        "  context: {cluster: gh, user: admin}",
        "current-context: gh",
        "",
      ].join("\n"),
    );
    const r = await kubectl([
      "--kubeconfig",
      kc,
      "api-resources",
      "--api-group",
      "gatehouse.io",
      "-o",
      "name",
    ]);
    expect(r.code, r.stderr).toBe(0);
    const names = r.stdout.trim().split("\n");
    for (const n of [
      "auditevents.gatehouse.io",
      "auditpolicies.gatehouse.io",
      "auditverifications.gatehouse.io",
      "sessions.gatehouse.io",
    ])
      expect(names).toContain(n);
  });
});
