import { chmodSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { startClusters, type TestCluster } from "../harness/clusters.js";
import { kubectl } from "../e2e/kubectl.js";
import { gatehouse } from "../cli/run.js";
import { loadKeyRing } from "../../src/secrets/index.js";
import { createIssuer, issuerOptions } from "../../src/identity/index.js";
import type { UserRecord } from "../../src/store/index.js";
import {
  directAuthenticationConfig,
  startIdentityFixture,
  webhookKubeconfig,
  type IdentityFixture,
} from "./fixture.js";

const API = "/apis/gatehouse.io/v1alpha1";
const PW = "correct horse battery staple";

describe("gatehouse login, the exec plugin, TokenReview webhook and direct mode with real kubectl", () => {
  let fx: IdentityFixture;
  let webhook: TestCluster;
  let direct: TestCluster;
  let home: string;
  let cache: string;
  let kc: string;
  const env = (): NodeJS.ProcessEnv => ({ GATEHOUSE_CACHE_DIR: cache, HOME: home, KUBECONFIG: kc });
  const cacheFile = (): string => {
    const files = readdirSync(cache).filter((f) => f.endsWith(".json"));
    expect(files).toHaveLength(1);
    return join(cache, files[0] as string);
  };
  const cached = (): Record<string, string> =>
    JSON.parse(readFileSync(cacheFile(), "utf8")) as Record<string, string>;
  const whoami = async (
    args: string[],
  ): Promise<{ code: number; user?: Record<string, unknown>; stderr: string }> => {
    const r = await kubectl([...args, "auth", "whoami", "-o", "json"], { env: env() });
    if (r.code !== 0) return { code: r.code, stderr: r.stderr };
    const out = JSON.parse(r.stdout) as { status: { userInfo: Record<string, unknown> } };
    return { code: 0, user: out.status.userInfo, stderr: r.stderr };
  };
  const direct_ = (token: string): string[] => [
    "--kubeconfig=/dev/null",
    `--server=${direct.url}`,
    `--certificate-authority=${direct.caFile}`,
    `--token=${token}`,
  ];
  const webhook_ = (token: string): string[] => [
    "--kubeconfig=/dev/null",
    `--server=${webhook.url}`,
    `--certificate-authority=${webhook.caFile}`,
    `--token=${token}`,
  ];
  const login = async (user: string, password: string): Promise<Record<string, string>> => {
    const r = await fx.call("POST", `${API}/login`, { body: { username: user, password } });
    expect(r.status).toBe(201);
    return r.json<Record<string, string>>();
  };

  beforeAll(async () => {
    fx = await startIdentityFixture();
    home = mkdtempSync(join(tmpdir(), "gatehouse-home-"));
    cache = join(home, "cache");
    kc = join(home, "kubeconfig");
    await fx.admin("POST", `${API}/users`, {
      apiVersion: "gatehouse.io/v1alpha1",
      kind: "User",
      metadata: { name: "cluster-webhook" },
      spec: { groups: ["gatehouse:token-reviewers"] },
    });
    const key = await fx.admin("POST", `${API}/accesskeys`, {
      apiVersion: "gatehouse.io/v1alpha1",
      kind: "AccessKey",
      metadata: { name: "cluster-webhook" },
      spec: { user: "cluster-webhook" },
    });
    const webhookFile = join(fx.dir, "webhook.kubeconfig");
    writeFileSync(
      webhookFile,
      webhookKubeconfig(fx.gh.url, fx.ca, (key["status"] as { token: string }).token),
    );
    const authnFile = join(fx.dir, "authentication-config.yaml");
    writeFileSync(authnFile, directAuthenticationConfig(fx.gh.url, readFileSync(fx.ca, "utf8")));
    [[webhook], [direct]] = (await Promise.all([
      startClusters(1, {
        name: "webhook",
        extraArgs: [
          `--authentication-token-webhook-config-file=${webhookFile}`,
          "--authentication-token-webhook-version=v1",
          // Revocation reaches a webhook cluster once its cache of TokenReview answers expires.
          "--authentication-token-webhook-cache-ttl=1s",
        ],
      }),
      startClusters(1, { name: "direct", extraArgs: [`--authentication-config=${authnFile}`] }),
    ])) as [[TestCluster], [TestCluster]];
    fx.addCluster(webhook);
    fx.addCluster(direct);
    await fx.user("alice", PW, ["dev"]);
    await fx.user("bob", PW);
    await fx.admin("POST", `${API}/accessbindings`, {
      apiVersion: "gatehouse.io/v1alpha1",
      kind: "AccessBinding",
      metadata: { name: "alice-view-webhook" },
      spec: {
        subjects: [{ kind: "User", name: "alice" }],
        roleRef: { name: "view" },
        clusters: { names: ["webhook"] },
      },
    });
    await fx.gh.reconciler.runOnce();
    // A kubeconfig with someone else's entries, which the login must leave alone.
    writeFileSync(
      kc,
      [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        "- name: other",
        "  cluster: {server: https://other.example:6443}",
        "users:",
        "- name: other-user",
        "  user: {token: keep-me}",
        "contexts:",
        "- name: other",
        "  context: {cluster: other, user: other-user}",
        "current-context: other",
        "",
      ].join("\n"),
    );
    chmodSync(kc, 0o600);
  });
  afterAll(async () => {
    await Promise.all([webhook?.stop(), direct?.stop()]);
    await fx?.gh.close();
  });

  it("serves its discovery document and JWKS without authentication", async () => {
    const d = await fx.call("GET", "/.well-known/openid-configuration");
    expect(d.status).toBe(200);
    expect(d.json()).toMatchObject({ issuer: fx.gh.url, jwks_uri: `${fx.gh.url}/openid/v1/jwks` });
    const j = await fx.call("GET", "/openid/v1/jwks");
    expect(j.status).toBe(200);
    const keys = j.json<{ keys: Record<string, unknown>[] }>().keys;
    expect(keys.length).toBeGreaterThan(0);
    expect(keys[0]).toMatchObject({ kty: "EC", alg: "ES256" });
    expect(keys[0]).not.toHaveProperty("d");
  });

  it("signs in with --password-stdin, caches the tokens 0600 in a 0700 directory and merges a context per reachable cluster", async () => {
    const r = await gatehouse(
      [
        "login",
        fx.gh.url,
        "--username",
        "alice",
        "--password-stdin",
        "--certificate-authority",
        fx.ca,
        "--kubeconfig",
        kc,
      ],
      { input: `${PW}\n`, env: env() },
    );
    expect(r.stderr).toContain("signed in");
    expect(r.code).toBe(0);
    expect(statSync(cache).mode & 0o777).toBe(0o700);
    expect(statSync(cacheFile()).mode & 0o777).toBe(0o600);
    expect(cached()["refreshToken"]).toMatch(/^ghr\./);
    const text = readFileSync(kc, "utf8");
    expect(text).not.toContain("ghr.");
    expect(text).not.toContain("eyJ");
    expect(text).not.toContain(PW);
    const config = parse(text) as {
      contexts: { name: string; context: { user: string } }[];
      users: { name: string; user: Record<string, unknown> }[];
      clusters: { name: string; cluster: { server: string } }[];
      "current-context": string;
    };
    expect(config["current-context"]).toBe("other");
    expect(config.contexts.map((c) => c.name).sort()).toEqual(["other", "webhook"]);
    expect(config.users.find((u) => u.name === "other-user")?.user).toEqual({ token: "keep-me" });
    expect(config.clusters.find((c) => c.name === "webhook")?.cluster.server).toBe(
      `${fx.gh.url}/k8s/clusters/webhook`,
    );
    const exec = config.users.find((u) => u.name.startsWith("alice@"))?.user["exec"] as Record<
      string,
      unknown
    >;
    expect(exec["apiVersion"]).toBe("client.authentication.k8s.io/v1");
    expect((exec["args"] as string[]).slice(-5)).toEqual(["token", "--server", fx.gh.url, "--user", "alice"]);
    expect(statSync(kc).mode & 0o777).toBe(0o600);
  });

  it("lets the real kubectl reach the cluster through the gateway via the exec plugin", async () => {
    const w = await whoami(["--context", "webhook"]);
    expect(w.stderr).toBe("");
    expect(w.user).toMatchObject({ username: "alice" });
    const pods = await kubectl(["--context", "webhook", "get", "pods", "-n", "default"], { env: env() });
    expect(pods.code).toBe(0);
  });

  it("prints an ExecCredential with the access token and its expiry, never the refresh token", async () => {
    const r = await gatehouse(["token", "--server", fx.gh.url, "--user", "alice"], { env: env() });
    expect(r.code).toBe(0);
    const cred = JSON.parse(r.stdout) as { apiVersion: string; kind: string; status: Record<string, string> };
    expect(cred.apiVersion).toBe("client.authentication.k8s.io/v1");
    expect(cred.kind).toBe("ExecCredential");
    expect(cred.status["token"]).toBe(cached()["accessToken"]);
    expect(Date.parse(cred.status["expirationTimestamp"] as string)).toBeGreaterThan(
      Date.now() + 10 * 60_000,
    );
    expect(r.stdout).not.toContain("ghr.");
  });

  it("refreshes silently when the access token is about to expire, and concurrent kubectl runs do not trip reuse detection", async () => {
    const before = cached();
    writeFileSync(
      cacheFile(),
      JSON.stringify({ ...before, accessTokenExpiresAt: new Date(Date.now() + 5_000).toISOString() }),
    );
    const runs = await Promise.all([1, 2, 3, 4].map(() => whoami(["--context", "webhook"])));
    for (const w of runs) expect(w.user).toMatchObject({ username: "alice" });
    const after = cached();
    expect(after["refreshToken"]).not.toBe(before["refreshToken"]);
    expect(after["accessToken"]).not.toBe(before["accessToken"]);
    expect(after["sessionId"]).toBe(before["sessionId"]);
    expect(statSync(cacheFile()).mode & 0o777).toBe(0o600);
  });

  it("is trusted by a cluster started with the TokenReview webhook: the real kubectl authenticates directly", async () => {
    const w = await whoami(webhook_(cached()["accessToken"] as string));
    expect(w.stderr).toBe("");
    expect(w.user).toMatchObject({ username: "alice" });
    expect(w.user?.["groups"]).toEqual(expect.arrayContaining(["dev", "system:authenticated"]));
    expect(w.user?.["extra"]).toMatchObject({ "gatehouse.io/session": [cached()["sessionId"]] });
  });

  it("is trusted by a cluster in direct mode (structured JWT authentication against Gatehouse's issuer)", async () => {
    let w = await whoami(direct_(cached()["accessToken"] as string));
    // The cluster fetches the discovery document and JWKS in the background after it starts.
    for (let i = 0; i < 30 && w.code !== 0; i++) {
      await new Promise((r) => setTimeout(r, 1_000));
      w = await whoami(direct_(cached()["accessToken"] as string));
    }
    expect(w.stderr).toBe("");
    expect(w.user).toMatchObject({ username: "gatehouse:alice" });
    expect(w.user?.["groups"]).toEqual(expect.arrayContaining(["gatehouse:dev", "system:authenticated"]));
  });

  it("rejects an expired token at the gateway, the webhook cluster and the direct-mode cluster", async () => {
    const past = createIssuer(
      fx.gh.store,
      loadKeyRing(fx.config.encryptionKeys),
      issuerOptions(fx.gh.url),
      () => Date.now() - 30 * 60_000,
    );
    const alice = (await fx.gh.store.users.get("alice")) as UserRecord;
    const expired = (await past.sessions.start(alice, "test")).accessToken;
    expect((await fx.call("GET", `${API}/sessions`, { bearer: expired })).status).toBe(401);
    const w = await whoami(webhook_(expired));
    expect(w.code).not.toBe(0);
    expect(w.stderr).toMatch(/Unauthorized|must be logged in/);
    const d = await whoami(direct_(expired));
    expect(d.code).not.toBe(0);
    expect(d.stderr).toMatch(/Unauthorized|must be logged in/);
  });

  it("throttles password guessing per user and logs nothing back to the guesser", async () => {
    for (let i = 0; i < 5; i++) {
      const r = await fx.call("POST", `${API}/login`, { body: { username: "bob", password: `wrong-${i}` } });
      expect(r.status).toBe(401);
      expect(r.body).not.toContain("wrong-");
    }
    const blocked = await fx.call("POST", `${API}/login`, { body: { username: "bob", password: PW } });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers["retry-after"])).toBeGreaterThan(0);
    // Another user from the same address is still below the address limit.
    const other = await fx.call("POST", `${API}/login`, { body: { username: "alice", password: PW } });
    expect(other.status).toBe(201);
    await fx.call("POST", `${API}/logout`, { body: { refreshToken: other.json()["refreshToken"] } });
  });

  it("answers a failed sign-in the same for a wrong password and an unknown user", async () => {
    const a = await fx.call("POST", `${API}/login`, {
      body: { username: "alice", password: "nope-nope-nope" },
    });
    const b = await fx.call("POST", `${API}/login`, {
      body: { username: "nobody", password: "nope-nope-nope" },
    });
    expect(a.status).toBe(401);
    expect(b.status).toBe(401);
    expect(a.json()["message"]).toBe(b.json()["message"]);
  });

  it("revokes the whole session when a refresh token is replayed", async () => {
    const t = await login("alice", PW);
    const r1 = await fx.call("POST", `${API}/token`, { body: { refreshToken: t["refreshToken"] } });
    expect(r1.status).toBe(201);
    const fresh = r1.json<Record<string, string>>();
    expect((await fx.call("GET", `${API}/sessions`, { bearer: fresh["accessToken"] as string })).status).toBe(
      200,
    );
    const replay = await fx.call("POST", `${API}/token`, { body: { refreshToken: t["refreshToken"] } });
    expect(replay.status).toBe(401);
    expect((await fx.call("GET", `${API}/sessions`, { bearer: fresh["accessToken"] as string })).status).toBe(
      401,
    );
    const next = await fx.call("POST", `${API}/token`, { body: { refreshToken: fresh["refreshToken"] } });
    expect(next.status).toBe(401);
  });

  it("lets an administrator revoke a user's session, effective at once, and keeps users out of each other's sessions", async () => {
    const b1 = await login("alice", PW);
    const b2 = await login("alice", PW);
    const list = await fx.call("GET", `${API}/sessions`, { bearer: b1["accessToken"] as string });
    expect(
      list.json<{ items: { metadata: { name: string } }[] }>().items.map((s) => s.metadata.name),
    ).toEqual(expect.arrayContaining([b1["sessionId"], b2["sessionId"]]));
    // A user with no password (here the webhook's service identity) cannot sign in with one.
    const noPassword = await fx.call("POST", `${API}/login`, {
      body: { username: "cluster-webhook", password: "x".repeat(12) },
    });
    expect(noPassword.status).toBe(401);
    // Carol can neither see nor end Alice's sessions.
    await fx.user("carol", PW);
    const carol = await login("carol", PW);
    const carolList = await fx.call("GET", `${API}/sessions`, { bearer: carol["accessToken"] as string });
    expect(carolList.json<{ items: { spec: { user: string } }[] }>().items.map((s) => s.spec.user)).toEqual([
      "carol",
    ]);
    const steal = await fx.call("DELETE", `${API}/sessions/${b2["sessionId"] as string}`, {
      bearer: carol["accessToken"] as string,
    });
    expect(steal.status).toBe(404);
    await fx.admin("DELETE", `${API}/sessions/${b1["sessionId"] as string}`);
    expect((await fx.call("GET", `${API}/sessions`, { bearer: b1["accessToken"] as string })).status).toBe(
      401,
    );
    expect((await fx.call("GET", `${API}/sessions`, { bearer: b2["accessToken"] as string })).status).toBe(
      200,
    );
    const w = await whoami(webhook_(b1["accessToken"] as string));
    expect(w.code).not.toBe(0);
  });

  it("lets an administrator end every session of a user at once, and nobody else", async () => {
    await fx.user("dora", PW);
    const d1 = await login("dora", PW);
    const d2 = await login("dora", PW);
    const asDora = await fx.call("DELETE", `${API}/sessions?user=alice`, {
      bearer: d1["accessToken"] as string,
    });
    expect(asDora.status).toBe(403);
    const r = await fx.admin("DELETE", `${API}/sessions?user=dora`);
    expect(r["message"]).toBe("2 revoked");
    for (const t of [d1, d2]) {
      expect((await fx.call("GET", `${API}/sessions`, { bearer: t["accessToken"] as string })).status).toBe(
        401,
      );
      expect(
        (await fx.call("POST", `${API}/token`, { body: { refreshToken: t["refreshToken"] } })).status,
      ).toBe(401);
    }
  });

  it("accepts TokenReviews only from token reviewers and administrators", async () => {
    const t = await login("alice", PW);
    const review = {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenReview",
      spec: { token: t["accessToken"] },
    };
    const asAlice = await fx.call("POST", "/apis/authentication.k8s.io/v1/tokenreviews", {
      bearer: t["accessToken"] as string,
      body: review,
    });
    expect(asAlice.status).toBe(403);
    const anon = await fx.call("POST", "/apis/authentication.k8s.io/v1/tokenreviews", { body: review });
    expect(anon.status).toBe(401);
    const asAdmin = await fx.admin("POST", "/apis/authentication.k8s.io/v1/tokenreviews", review);
    expect(asAdmin["status"]).toMatchObject({ authenticated: true, user: { username: "alice" } });
    const bad = await fx.admin("POST", "/apis/authentication.k8s.io/v1/tokenreviews", {
      ...review,
      spec: { token: `${t["accessToken"] as string}x` },
    });
    expect(bad["status"]).toEqual({ authenticated: false, error: "invalid token", user: {} });
    expect(JSON.stringify(asAdmin)).not.toContain(t["accessToken"]);
  });

  it("rewrites the contexts with gatehouse kubeconfig after access to another cluster is granted", async () => {
    await fx.admin("POST", `${API}/accessbindings`, {
      apiVersion: "gatehouse.io/v1alpha1",
      kind: "AccessBinding",
      metadata: { name: "alice-view-direct" },
      spec: {
        subjects: [{ kind: "User", name: "alice" }],
        roleRef: { name: "view" },
        clusters: { names: ["direct"] },
      },
    });
    await fx.gh.reconciler.runOnce();
    const r = await gatehouse(["kubeconfig", "--server", fx.gh.url, "--user", "alice", "--kubeconfig", kc], {
      env: env(),
    });
    expect(r.code).toBe(0);
    const config = parse(readFileSync(kc, "utf8")) as { contexts: { name: string }[] };
    expect(config.contexts.map((c) => c.name).sort()).toEqual(["direct", "other", "webhook"]);
    const w = await whoami(["--context", "direct"]);
    expect(w.user).toMatchObject({ username: "alice" });
  });

  it("logs out: the session ends at the gateway at once and at a webhook cluster within its cache time, the cache is cleared, direct mode holds until expiry", async () => {
    const access = cached()["accessToken"] as string;
    const r = await gatehouse(["logout", fx.gh.url, "--user", "alice"], { env: env() });
    expect(r.code).toBe(0);
    expect(readdirSync(cache).filter((f) => f.endsWith(".json"))).toEqual([]);
    expect((await fx.call("GET", `${API}/sessions`, { bearer: access })).status).toBe(401);
    // Gatehouse itself refuses the token in a TokenReview at once...
    const review = await fx.admin("POST", "/apis/authentication.k8s.io/v1/tokenreviews", {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenReview",
      spec: { token: access },
    });
    expect(review["status"]).toMatchObject({ authenticated: false });
    // ...and the cluster, once its cache of earlier answers for this token expires.
    const deadline = Date.now() + 20_000;
    let w = await whoami(webhook_(access));
    while (w.code === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      w = await whoami(webhook_(access));
    }
    expect(w.code).not.toBe(0);
    // A cluster in direct mode verifies signatures only: it cannot see revocation (docs/identity.md).
    expect((await whoami(direct_(access))).user).toMatchObject({ username: "gatehouse:alice" });
    const after = await kubectl(["--context", "webhook", "get", "pods"], { env: env() });
    expect(after.code).not.toBe(0);
    expect(after.stderr).toContain("gatehouse login");
  });
});
