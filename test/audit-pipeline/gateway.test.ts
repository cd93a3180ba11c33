import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Event, EventList } from "../../src/core/audit/index.js";
import { startClusters, type TestCluster } from "../harness/clusters.js";
import { call } from "../server/client.js";
import { kubectl } from "../e2e/kubectl.js";
import { gatehouse } from "../cli/run.js";
import { parseAllDocuments } from "yaml";
import { startGatewayFixture, type GatewayFixture } from "../e2e/gateway-setup.js";

describe("audit events for requests through the gateway (real kubectl, real cluster)", () => {
  let clusters: TestCluster[];
  let fx: GatewayFixture;
  let alice: { token: string; kubeconfig: string };
  let bob: { token: string; kubeconfig: string };
  let ops: { token: string; kubeconfig: string };
  const k = (who: { kubeconfig: string }, ...args: string[]) =>
    kubectl(["--kubeconfig", who.kubeconfig, "--context", "cluster-1", ...args]);
  const events = async (query: string): Promise<Event[]> => {
    await fx.gh.audit.flush();
    const r = await call(fx.gh.url, fx.ca, "GET", `/apis/gatehouse.io/v1alpha1/auditevents?${query}`, {
      auth: fx.admin,
    });
    expect(r.status).toBe(200);
    return r.json<EventList>().items;
  };

  beforeAll(async () => {
    clusters = await startClusters(1);
    await kubectl(["--kubeconfig", clusters[0]!.kubeconfigPath, "create", "namespace", "team-b"]);
    fx = await startGatewayFixture(clusters, { "cluster-1": { env: "dev" } });
    alice = await fx.user("alice", ["idp:engineers"]);
    bob = await fx.user("bob");
    ops = await fx.user("ops");
    await fx.bind("alice-edit", ["alice"], "edit", ["cluster-1"]);
    await fx.apply("accessbindings", {
      kind: "AccessBinding",
      metadata: { name: "readers-view" },
      spec: {
        subjects: [
          { kind: "User", name: "bob" },
          { kind: "User", name: "viewer" },
        ],
        roleRef: { name: "view" },
        clusters: { names: ["cluster-1"] },
        namespaces: ["team-b"],
      },
    });
    await fx.apply("accessroles", {
      kind: "AccessRole",
      metadata: { name: "impersonate-viewer" },
      spec: {
        rules: [{ apiGroups: [""], resources: ["users"], resourceNames: ["viewer"], verbs: ["impersonate"] }],
      },
    });
    await fx.bind("ops-impersonate", ["ops"], "impersonate-viewer", ["cluster-1"]);
    await fx.gh.reconciler.runOnce();
  });
  afterAll(async () => {
    await fx?.gh.close();
    await Promise.all((clusters ?? []).map((c) => c.stop()));
  });

  it("records a create as RequestReceived and ResponseComplete with verb, objectRef, user, decision and annotations", async () => {
    const r = await k(alice, "create", "configmap", "cm-audit", "-n", "default", "--from-literal=a=b");
    expect(r.code).toBe(0);
    const found = await events("user=alice&verb=create&resource=configmaps");
    expect(found.map((e) => e.stage)).toEqual(["RequestReceived", "ResponseComplete"]);
    const [received, complete] = found as [Event, Event];
    expect(received.auditID).toBe(complete.auditID);
    expect(received.annotations?.["authorization.k8s.io/decision"]).toBeUndefined();
    expect(received.objectRef).toEqual({ resource: "configmaps", namespace: "default", apiVersion: "v1" });
    expect(complete).toMatchObject({
      level: "Metadata",
      verb: "create",
      requestURI: expect.stringMatching(/^\/api\/v1\/namespaces\/default\/configmaps\?/),
      user: { username: "alice", groups: expect.arrayContaining(["idp:engineers", "system:authenticated"]) },
      objectRef: { resource: "configmaps", namespace: "default", name: "cm-audit", apiVersion: "v1" },
      responseStatus: { code: 201 },
      annotations: {
        "authorization.k8s.io/decision": "allow",
        "authorization.k8s.io/reason": expect.stringContaining("alice"),
        "gatehouse.io/cluster": "cluster-1",
        "gatehouse.io/impact": "write",
      },
    });
    expect(complete.requestObject).toBeUndefined();
    expect(complete.userAgent).toContain("kubectl");
    expect(complete.sourceIPs).toEqual(["127.0.0.1"]);
  });

  it("records a request central authorization refused with decision forbid and its 403 status", async () => {
    const r = await k(bob, "create", "configmap", "nope", "-n", "team-b", "--from-literal=a=b");
    expect(r.code).not.toBe(0);
    const found = await events("user=bob&verb=create&stage=ResponseComplete");
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      objectRef: { resource: "configmaps", namespace: "team-b", apiVersion: "v1" },
      responseStatus: { code: 403, reason: "Forbidden", status: "Failure" },
      annotations: { "authorization.k8s.io/decision": "forbid", "gatehouse.io/cluster": "cluster-1" },
    });
    expect((await events("decision=forbid&code=403")).length).toBeGreaterThanOrEqual(1);
  });

  it("records the impersonated user beside the real one, and finds the event by either", async () => {
    const r = await k(ops, "--as", "viewer", "get", "configmaps", "-n", "team-b");
    expect(r.code).toBe(0);
    const byReal = await events("user=ops&verb=list&stage=ResponseComplete&namespace=team-b");
    const byImpersonated = await events("user=viewer&verb=list&stage=ResponseComplete&namespace=team-b");
    expect(byReal).toHaveLength(1);
    expect(byImpersonated).toEqual(byReal);
    expect(byReal[0]).toMatchObject({
      user: { username: "ops" },
      impersonatedUser: { username: "viewer" },
      responseStatus: { code: 200 },
      annotations: { "authorization.k8s.io/decision": "allow", "gatehouse.io/impact": "read" },
    });
  });

  it("records ResponseStarted for a watch, between RequestReceived and ResponseComplete", async () => {
    await k(alice, "get", "configmaps", "-n", "default", "--watch", "--request-timeout=2s");
    const found = await events("user=alice&verb=watch&resource=configmaps");
    const stages = found.map((e) => e.stage);
    expect(stages).toEqual(["RequestReceived", "ResponseStarted", "ResponseComplete"]);
    expect(new Set(found.map((e) => e.auditID)).size).toBe(1);
  });

  it("records management-API writes as Gatehouse events, never with their bodies", async () => {
    const r = await call(fx.gh.url, fx.ca, "POST", "/apis/gatehouse.io/v1alpha1/users", {
      auth: fx.admin,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        apiVersion: "gatehouse.io/v1alpha1",
        kind: "User",
        metadata: { name: "carol" },
        spec: { password: "carol-secret-password-123" },
      }),
    });
    expect(r.status).toBe(201);
    const found = await events("user=admin&resource=users&name=carol");
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      stage: "ResponseComplete",
      verb: "create",
      objectRef: { resource: "users", name: "carol", apiGroup: "gatehouse.io", apiVersion: "v1alpha1" },
      annotations: { "gatehouse.io/event-kind": "user.created", "gatehouse.io/impact": "write" },
    });
    const stored = await fx.gh.store.db.selectFrom("audit_events").select("event").execute();
    expect(stored.some((s) => s.event.includes("carol-secret-password-123"))).toBe(false);
    const keys = await events("resource=accesskeys&verb=create");
    expect(keys.map((e) => e.annotations?.["gatehouse.io/event-kind"])).toContain("accesskey.issued");
    expect(stored.some((s) => s.event.includes(alice.token))).toBe(false);
  });

  it("answers audit queries only for administrators", async () => {
    const r = await call(fx.gh.url, fx.ca, "GET", "/apis/gatehouse.io/v1alpha1/auditevents", {
      headers: { authorization: `Bearer ${alice.token}` },
    });
    expect(r.status).toBe(403);
    const v = await call(fx.gh.url, fx.ca, "POST", "/apis/gatehouse.io/v1alpha1/auditverifications", {
      headers: { authorization: `Bearer ${alice.token}`, "content-type": "application/json" },
      body: "{}",
    });
    expect(v.status).toBe(403);
  });

  it("refuses malformed filters with 400 instead of ignoring them", async () => {
    for (const q of [
      "decision=maybe",
      "impact=huge",
      "code=abc",
      "since=yesterday",
      "limit=0",
      "continue=zzz",
    ]) {
      const r = await call(fx.gh.url, fx.ca, "GET", `/apis/gatehouse.io/v1alpha1/auditevents?${q}`, {
        auth: fx.admin,
      });
      expect(r.status, q).toBe(400);
    }
  });

  it("verifies the chain of everything recorded", async () => {
    await fx.gh.audit.flush();
    const r = await call(fx.gh.url, fx.ca, "POST", "/apis/gatehouse.io/v1alpha1/auditverifications", {
      auth: fx.admin,
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(r.status).toBe(201);
    expect(r.json()["status"]).toMatchObject({ ok: true });
  });

  it("feeds audit2rbac from the store: alice's requests on the cluster become the Role that allows them", async () => {
    await fx.gh.audit.flush();
    const r = await gatehouse(
      [
        "audit2rbac",
        "--cluster",
        "cluster-1",
        "--user",
        "alice",
        "--server",
        fx.gh.url,
        "--username",
        "admin",
      ].concat(["--password-stdin", "--certificate-authority", fx.ca]),
      { input: fx.admin[1] },
    );
    expect(r.code, r.stderr).toBe(0);
    const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as Record<string, unknown>);
    const role = docs.find((d) => d["kind"] === "Role") as {
      metadata: { namespace: string };
      rules: { resources: string[]; verbs: string[] }[];
    };
    expect(role.metadata.namespace).toBe("default");
    const cm = role.rules.find((x) => x.resources.includes("configmaps"));
    expect(cm?.verbs).toEqual(expect.arrayContaining(["create", "get", "list", "watch"]));
    expect(docs.some((d) => d["kind"] === "RoleBinding")).toBe(true);
  });
});
