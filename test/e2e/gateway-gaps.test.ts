import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startClusters, type TestCluster } from "../harness/clusters.js";
import { call, type Reply } from "../server/client.js";
import { startFixture, type GatehouseFixture } from "../clusters/fixture.js";

const GV = "/apis/gatehouse.io/v1alpha1";
const keyLine = (id: string): string => `${id}:${randomBytes(32).toString("base64")}`;

/**
 * Gatehouse with its real cluster registry (credentials sealed with the key ring) in front of a real
 * cluster: what happens when a cluster's credentials cannot be opened, and when a user is disabled.
 */
describe("gateway gaps: unreadable cluster credentials, disabling a user", { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-gaps-"));
  const keyFile = join(dir, "keys");
  const first = keyLine("first");
  let cluster: TestCluster;
  let gh: GatehouseFixture;
  const keys: Record<string, string> = {};

  const asBearer = (token: string, path: string, method = "GET"): Promise<Reply> =>
    call(gh.gh.url, gh.gh.caFile as string, method, path, {
      headers: { authorization: `Bearer ${token}` },
    });
  const ok = async (p: Promise<Reply>): Promise<Record<string, unknown>> => {
    const r = await p;
    if (r.status >= 300) throw new Error(`${r.status} ${r.body}`);
    return r.json();
  };
  async function userWithKey(name: string, password?: string): Promise<string> {
    await ok(
      gh.api("POST", `${GV}/users`, {
        apiVersion: "gatehouse.io/v1alpha1",
        kind: "User",
        metadata: { name },
        spec: password ? { password } : {},
      }),
    );
    const k = await ok(
      gh.api("POST", `${GV}/accesskeys`, {
        apiVersion: "gatehouse.io/v1alpha1",
        kind: "AccessKey",
        metadata: { name: `${name}-key` },
        spec: { user: name },
      }),
    );
    return (k["status"] as { token: string }).token;
  }
  const register = (name: string, token: string, server = cluster.url) =>
    ok(
      gh.api("POST", `${GV}/clusters`, {
        apiVersion: "gatehouse.io/v1alpha1",
        kind: "Cluster",
        metadata: { name },
        spec: {
          server,
          caData: Buffer.from(cluster.caPem).toString("base64"),
          credentials: { token },
        },
      }),
    );
  const bind = (name: string, users: string[], clusters: string[]) =>
    ok(
      gh.api("POST", `${GV}/accessbindings`, {
        apiVersion: "gatehouse.io/v1alpha1",
        kind: "AccessBinding",
        metadata: { name },
        spec: {
          subjects: users.map((u) => ({ kind: "User", name: u })),
          roleRef: { name: "cluster-admin" },
          clusters: { names: clusters },
        },
      }),
    );

  beforeAll(async () => {
    [cluster] = (await startClusters(1)) as [TestCluster];
    writeFileSync(keyFile, `${first}\n`, { mode: 0o600 });
    gh = await startFixture({ dataDir: join(dir, "data"), encryptionKeyFile: keyFile });
    await register("live", cluster.adminToken);
    keys["dev"] = await userWithKey("dev", "devs-long-password-1");
    keys["stranger"] = await userWithKey("stranger");
    keys["ops"] = await userWithKey("ops");
    await bind("dev-admin", ["dev", "ops"], ["live", "sealed"]);
    // "sealed" is registered under a key that is then dropped from the ring without re-encryption.
    writeFileSync(keyFile, `${keyLine("interim")}\n${first}\n`);
    await gh.restart();
    await register("sealed", cluster.adminToken);
    writeFileSync(keyFile, `${keyLine("latest")}\n${first}\n`);
    await gh.restart();
    // The cluster's own RBAC (the second gate) must know the bindings before requests go through.
    await gh.gh.reconciler.runOnce();
  });
  afterAll(async () => {
    await gh?.stop();
    await cluster?.stop();
  });

  describe("a cluster whose stored credentials cannot be opened", () => {
    it("answers 503 with a Status naming the cluster, to a caller who may see it", async () => {
      const r = await asBearer(keys["dev"] as string, "/k8s/clusters/sealed/api/v1/namespaces");
      expect(r.status).toBe(503);
      expect(r.json()).toMatchObject({
        kind: "Status",
        status: "Failure",
        reason: "ServiceUnavailable",
        code: 503,
        message: 'cluster "sealed" is unavailable: its stored credentials cannot be opened',
      });
      // Nothing about keys or ciphertexts leaks into the answer.
      expect(r.body).not.toMatch(/interim|key ring|decrypt/);
    });

    it("answers 404, as for a cluster that does not exist, to a caller with no binding on it", async () => {
      const r = await asBearer(keys["stranger"] as string, "/k8s/clusters/sealed/api/v1/namespaces");
      expect(r.status).toBe(404);
      expect(r.json()["message"]).toBe('clusters.gatehouse.io "sealed" not found');
    });

    it("answers 401 before anything else to an anonymous caller", async () => {
      const r = await call(gh.gh.url, gh.gh.caFile as string, "GET", "/k8s/clusters/sealed/api");
      expect(r.status).toBe(401);
    });

    it("leaves the other clusters working", async () => {
      const r = await asBearer(keys["dev"] as string, "/k8s/clusters/live/api/v1/namespaces/default");
      expect(r.status).toBe(200);
    });
  });

  describe("disabling a user", () => {
    it("stops their access key at once, through the gateway, and enabling lets it work again", async () => {
      const path = "/k8s/clusters/live/api/v1/namespaces/default";
      expect((await asBearer(keys["ops"] as string, path)).status).toBe(200);
      const r = await gh.cli(["users", "disable", "ops"]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toBe("user/ops disabled\n");
      const denied = await asBearer(keys["ops"] as string, path);
      expect(denied.status).toBe(401);
      expect(denied.json()).toMatchObject({ kind: "Status", reason: "Unauthorized", code: 401 });
      const shown = await ok(gh.api("GET", `${GV}/users/ops`));
      expect(shown["spec"]).toMatchObject({ disabled: true });

      const e = await gh.cli(["users", "enable", "ops"]);
      expect(e.stdout).toBe("user/ops enabled\n");
      expect((await asBearer(keys["ops"] as string, path)).status).toBe(200);
    });

    it("ends their sessions with PATCH: the access token and refresh token stop working at once", async () => {
      const login = await call(gh.gh.url, gh.gh.caFile as string, "POST", `${GV}/login`, {
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: "dev", password: "devs-long-password-1" }),
      });
      expect(login.status).toBe(201);
      const tokens = login.json<{ accessToken: string; refreshToken: string }>();
      const path = "/k8s/clusters/live/api/v1/namespaces/default";
      expect((await asBearer(tokens.accessToken, path)).status).toBe(200);

      const patched = await gh.api("PATCH", `${GV}/users/dev`, { spec: { disabled: true } });
      expect(patched.status).toBe(200);
      expect(patched.json()["spec"]).toMatchObject({ disabled: true });

      expect((await asBearer(tokens.accessToken, path)).status).toBe(401);
      expect((await asBearer(keys["dev"] as string, path)).status).toBe(401);
      const refresh = await call(gh.gh.url, gh.gh.caFile as string, "POST", `${GV}/token`, {
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ refreshToken: tokens.refreshToken }),
      });
      expect(refresh.status).toBeGreaterThanOrEqual(400);
      const again = await call(gh.gh.url, gh.gh.caFile as string, "POST", `${GV}/login`, {
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: "dev", password: "devs-long-password-1" }),
      });
      expect(again.status).toBe(401);

      // Enabled again, the old session stays ended; a new sign-in works.
      expect((await gh.api("PATCH", `${GV}/users/dev`, { spec: { disabled: false } })).status).toBe(200);
      expect((await asBearer(tokens.accessToken, path)).status).toBe(401);
      expect((await asBearer(keys["dev"] as string, path)).status).toBe(200);
    });

    it("refuses bad patches, non-admins, and disabling yourself", async () => {
      const bad = await gh.api("PATCH", `${GV}/users/ops`, { spec: { disabled: "yes", password: "x" } });
      expect(bad.status).toBe(400);
      expect(bad.json()["message"]).toBe(
        "invalid patch: spec.password: cannot be changed with PATCH; spec.disabled: must be true or false",
      );
      const missing = await gh.api("PATCH", `${GV}/users/nobody`, { spec: { disabled: true } });
      expect(missing.status).toBe(404);
      const self = await gh.api("PATCH", `${GV}/users/admin`, { spec: { disabled: true } });
      expect(self.status).toBe(403);
      const byUser = await call(gh.gh.url, gh.gh.caFile as string, "PATCH", `${GV}/users/ops`, {
        headers: {
          authorization: `Bearer ${keys["stranger"] as string}`,
          "content-type": "application/json",
        },
        body: JSON.stringify({ spec: { disabled: true } }),
      });
      expect(byUser.status).toBe(403);
      const cli = await gh.cli(["users", "disable", "nobody"]);
      expect(cli.code).not.toBe(0);
      expect(cli.stderr).toContain('users.gatehouse.io "nobody" not found');
    });
  });
});
