import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "node:tls";
import { readFileSync } from "node:fs";
import { startClusters, type TestCluster } from "../harness/clusters.js";
import { call } from "../server/client.js";
import { kubectl } from "./kubectl.js";
import { startGatewayFixture, type GatewayFixture } from "./gateway-setup.js";

/** Send bytes exactly as written over TLS and return the raw answer (for smuggling and header tricks). */
function raw(url: string, ca: string, bytes: string): Promise<string> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const s = connect(
      { host: u.hostname, port: Number(u.port), ca: readFileSync(ca), servername: "localhost" },
      () => s.end(bytes),
    );
    let out = "";
    s.on("data", (d: Buffer) => (out += d.toString("latin1")));
    s.on("end", () => resolve(out));
    s.on("close", () => resolve(out));
    s.on("error", reject);
  });
}

describe("the gateway refuses identity tricks and malformed requests", () => {
  let clusters: TestCluster[];
  let fx: GatewayFixture;
  let alice: { token: string; kubeconfig: string };
  let ops: { token: string; kubeconfig: string };
  const as = (token: string, headers: Record<string, string> = {}) => ({
    headers: { authorization: `Bearer ${token}`, ...headers },
  });
  const whoami = { "content-type": "application/json" };
  const reviewBody = JSON.stringify({ apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" });

  beforeAll(async () => {
    clusters = await startClusters(1);
    fx = await startGatewayFixture(clusters, { "cluster-1": { env: "dev" } });
    alice = await fx.user("alice");
    ops = await fx.user("ops");
    await fx.bind("all-view", ["alice", "ops"], "view", ["cluster-1"]);
    await fx.apply("accessroles", {
      kind: "AccessRole",
      metadata: { name: "impersonate-viewers" },
      spec: {
        rules: [
          { apiGroups: [""], resources: ["users"], resourceNames: ["viewer"], verbs: ["impersonate"] },
          { apiGroups: [""], resources: ["groups"], resourceNames: ["readers"], verbs: ["impersonate"] },
        ],
      },
    });
    await fx.bind("ops-impersonate", ["ops"], "impersonate-viewers", ["cluster-1"]);
    await fx.gh.reconciler.runOnce();
  });
  afterAll(async () => {
    await fx?.gh.close();
    await Promise.all((clusters ?? []).map((c) => c.stop()));
  });

  const review = (token: string, headers: Record<string, string> = {}) =>
    call(
      fx.gh.url,
      fx.ca,
      "POST",
      "/k8s/clusters/cluster-1/apis/authentication.k8s.io/v1/selfsubjectreviews",
      { ...as(token, { ...whoami, ...headers }), body: reviewBody },
    );

  it("refuses client Impersonate-* headers without the right, in kube-apiserver's words", async () => {
    const r = await review(alice.token, { "impersonate-user": "admin" });
    expect(r.status).toBe(403);
    expect(r.json()["message"]).toBe(
      'users "admin" is forbidden: User "alice" cannot impersonate resource "users" in API group "" at the cluster scope',
    );
    const g = await review(alice.token, {
      "impersonate-user": "alice",
      "Impersonate-Group": "system:masters",
    });
    expect(g.status).toBe(403);
  });

  it("refuses impersonating groups or extras without a user, as kube-apiserver does", async () => {
    const r = await review(alice.token, { "impersonate-group": "system:masters" });
    expect(r.status).toBe(500);
    expect(r.json()["message"]).toContain("without impersonating a user");
  });

  it("honours impersonation that central RBAC grants, and the cluster sees the impersonated user", async () => {
    const r = await review(ops.token, { "impersonate-user": "viewer", "impersonate-group": "readers" });
    expect(r.status).toBe(201);
    const info = r.json<{ status: { userInfo: { username: string; groups: string[] } } }>().status.userInfo;
    expect(info.username).toBe("viewer");
    expect(info.groups).toEqual(expect.arrayContaining(["readers", "system:authenticated"]));
    const other = await review(ops.token, {
      "impersonate-user": "viewer",
      "impersonate-group": "system:masters",
    });
    expect(other.status).toBe(403);
    expect(other.json()["message"]).toContain(
      'groups "system:masters" is forbidden: User "ops" cannot impersonate resource "groups"',
    );
  });

  it("honours kubectl --as exactly when central RBAC allows it", async () => {
    // kubectl's discovery reports a refused impersonation as "Forbidden: unknown", against kube-apiserver
    // itself too; the gateway's answer must read the same, and the API body carries the exact message.
    const denied = await kubectl(["--kubeconfig", alice.kubeconfig, "--as", "viewer", "get", "pods"]);
    expect(denied.code).toBe(1);
    expect(denied.stderr.trim().split("\n").pop()).toBe("Error from server (Forbidden): unknown");
    const body = await call(
      fx.gh.url,
      fx.ca,
      "GET",
      "/k8s/clusters/cluster-1/api/v1/namespaces/default/pods",
      as(alice.token, { "impersonate-user": "viewer" }),
    );
    expect(body.json()["message"]).toBe(
      'users "viewer" is forbidden: User "alice" cannot impersonate resource "users" in API group "" at the cluster scope',
    );
    const allowed = await kubectl([
      "--kubeconfig",
      ops.kubeconfig,
      "--as",
      "viewer",
      "auth",
      "whoami",
      "-o",
      "jsonpath={.status.userInfo.username}",
    ]);
    expect(allowed.stdout).toBe("viewer");
  });

  it("does not let headers named in Connection smuggle an identity past the gateway", async () => {
    // Rancher's CVE-2021-31999: a proxy that strips Impersonate-* and then drops Connection-listed headers
    // could lose its own impersonation. The cluster must still see alice.
    const r = await review(alice.token, {
      connection: "impersonate-user, impersonate-group",
      "x-remote-user": "admin",
    });
    expect(r.status).toBe(201);
    expect(r.json<{ status: { userInfo: { username: string } } }>().status.userInfo.username).toBe("alice");
  });

  it("treats header names case-insensitively and duplicates as kube-apiserver does", async () => {
    const bytes =
      "POST /k8s/clusters/cluster-1/apis/authentication.k8s.io/v1/selfsubjectreviews HTTP/1.1\r\nHost: x\r\n" +
      `Authorization: Bearer ${alice.token}\r\nIMPERSONATE-USER: admin\r\nimpersonate-user: alice\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${reviewBody.length}\r\nConnection: close\r\n\r\n${reviewBody}`;
    const out = await raw(fx.gh.url, fx.ca, bytes);
    expect(out).toMatch(/^HTTP\/1\.1 403/);
    expect(out).toContain('users \\"admin\\" is forbidden');
  });

  it("refuses path tricks: dot segments, encoded slashes and dots, unknown clusters", async () => {
    for (const path of [
      "/k8s/clusters/cluster-1/../cluster-2/api",
      "/k8s/clusters/cluster-1/api/v1/namespaces/default/pods/..%2f..%2fsecrets",
      "/k8s/clusters/cluster-1/api/v1/%2e%2e/secrets",
      "/k8s/clusters/cluster-1/api/./v1/secrets",
      "/k8s/clusters/../clusters/cluster-1/api",
      "/k8s/clusters/Cluster-1/api",
    ]) {
      const r = await call(fx.gh.url, fx.ca, "GET", path, as(alice.token));
      expect([400, 404], path).toContain(r.status);
      expect(r.json()["kind"]).toBe("Status");
    }
    expect(
      (await call(fx.gh.url, fx.ca, "GET", "/k8s/clusters/not-registered/api", as(alice.token))).status,
    ).toBe(404);
  });

  it("refuses a request with both Content-Length and Transfer-Encoding (request smuggling)", async () => {
    const bytes =
      "POST /k8s/clusters/cluster-1/api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: x\r\n" +
      `Authorization: Bearer ${alice.token}\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /k8s/clusters/cluster-1/api HTTP/1.1\r\nHost: x\r\n\r\n`;
    const out = await raw(fx.gh.url, fx.ca, bytes);
    expect(out).toMatch(/^HTTP\/1\.1 400/);
    expect(out.match(/HTTP\/1\.1/g)).toHaveLength(1);
  });

  it("refuses oversized headers with 431 and never reaches the cluster", async () => {
    const r = await call(
      fx.gh.url,
      fx.ca,
      "GET",
      "/k8s/clusters/cluster-1/api",
      as(alice.token, { "x-big": "a".repeat(64 * 1024) }),
    ).catch(() => ({ status: 431 }));
    expect(r.status).toBe(431);
  });

  it("rejects the access key of a user who was disabled or deleted", async () => {
    const carol = await fx.user("carol");
    const before = await call(fx.gh.url, fx.ca, "GET", "/k8s/clusters/cluster-1/api", as(carol.token));
    expect(before.status).toBe(404);
    await fx.gh.store.users.update("carol", { disabled: true }, Date.now());
    expect((await call(fx.gh.url, fx.ca, "GET", "/k8s/clusters/cluster-1/api", as(carol.token))).status).toBe(
      401,
    );
    await fx.gh.store.users.delete("carol");
    expect((await call(fx.gh.url, fx.ca, "GET", "/k8s/clusters/cluster-1/api", as(carol.token))).status).toBe(
      401,
    );
  });

  it("rejects a revoked access key at once", async () => {
    const dave = await fx.user("dave");
    const del = await call(fx.gh.url, fx.ca, "DELETE", "/apis/gatehouse.io/v1alpha1/accesskeys/dave-key", {
      auth: fx.admin,
    });
    expect(del.status).toBe(200);
    expect((await call(fx.gh.url, fx.ca, "GET", "/k8s/clusters/cluster-1/api", as(dave.token))).status).toBe(
      401,
    );
  });
});
