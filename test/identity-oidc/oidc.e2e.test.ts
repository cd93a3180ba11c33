import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeJwt } from "jose";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startClusters, type TestCluster } from "../harness/clusters.js";
import { startUpstreamOidc, type UpstreamOidc } from "../harness/oidc-provider.js";
import { kubectl } from "../e2e/kubectl.js";
import { startBrowserLogin } from "../cli/run.js";
import { startIdentityFixture, type IdentityFixture } from "../identity/fixture.js";
import { launchBrowser, signInThroughProvider } from "./browser.js";
import { auditEvents } from "./audit.js";

const API = "/apis/gatehouse.io/v1alpha1";
const SECRET = "corp-client-secret-value";

describe("OIDC sign-in against a real oidc-provider, in a real browser, then kubectl through the gateway", () => {
  let fx: IdentityFixture;
  let upstream: UpstreamOidc;
  let cluster: TestCluster;
  let browser: Browser;
  let home: string;
  const alice = { email: "alice@example.com", groups: ["dev", "ops"] };

  beforeAll(async () => {
    fx = await startIdentityFixture();
    const [u, clusters, b] = await Promise.all([
      startUpstreamOidc({ alice }, [
        {
          client_id: "gatehouse",
          client_secret: SECRET,
          redirect_uris: [`${fx.gh.url}/idp/corp/callback`],
          grant_types: ["authorization_code", "refresh_token"],
        },
      ]),
      startClusters(1, { name: "oidc-c1" }),
      launchBrowser(),
    ]);
    [upstream, cluster, browser] = [u, clusters[0] as TestCluster, b];
    fx.addCluster(cluster);
    await fx.admin("POST", `${API}/identityproviders`, {
      apiVersion: "gatehouse.io/v1alpha1",
      kind: "IdentityProvider",
      metadata: { name: "corp" },
      spec: {
        type: "oidc",
        displayName: "Corp SSO",
        groupsPrefix: "corp:",
        oidc: {
          issuer: upstream.issuer,
          clientId: "gatehouse",
          clientSecret: SECRET,
          usernameClaim: "email",
          scopes: ["openid", "email", "profile", "groups"],
          caData: upstream.caData,
        },
      },
    });
    await fx.admin("POST", `${API}/accessbindings`, {
      apiVersion: "gatehouse.io/v1alpha1",
      kind: "AccessBinding",
      metadata: { name: "corp-dev-view" },
      spec: {
        subjects: [{ kind: "Group", name: "corp:dev" }],
        roleRef: { name: "view" },
        clusters: { names: ["oidc-c1"] },
      },
    });
    await fx.gh.reconciler.runOnce();
    home = mkdtempSync(join(tmpdir(), "gatehouse-oidc-home-"));
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
    await upstream?.stop();
    await fx?.gh.close();
    await cluster?.stop();
  });

  const env = (): NodeJS.ProcessEnv => ({
    GATEHOUSE_CACHE_DIR: join(home, "cache"),
    HOME: home,
    KUBECONFIG: join(home, "kubeconfig"),
  });
  const cached = (): Record<string, string> => {
    const files = readdirSync(join(home, "cache")).filter((f) => f.endsWith(".json"));
    return JSON.parse(readFileSync(join(home, "cache", files[0] as string), "utf8")) as Record<
      string,
      string
    >;
  };
  const refresh = (refreshToken: string) => fx.call("POST", `${API}/token`, { body: { refreshToken } });

  /** `gatehouse login` in a browser through the provider; resolves with the CLI's exit code. */
  async function login(who = "alice"): Promise<{ exit: number | null; text: string }> {
    const { authorizeUrl, exit } = await startBrowserLogin(fx.gh.url, fx.ca, join(home, "kubeconfig"), env());
    const { text } = await signInThroughProvider(browser, authorizeUrl, "Sign in with Corp SSO", who);
    return { exit: await exit, text };
  }

  it("signs in on the provider's own pages; gatehouse login writes a kubeconfig kubectl uses through the gateway", async () => {
    const r = await login();
    expect(r.text).toContain("Signed in");
    expect(r.exit).toBe(0);
    expect(cached()["user"]).toBe("alice@example.com");
    const who = await kubectl(["--context", "oidc-c1", "auth", "whoami", "-o", "json"], { env: env() });
    expect(who.stderr).toBe("");
    const info = (JSON.parse(who.stdout) as { status: { userInfo: { username: string; groups: string[] } } })
      .status.userInfo;
    expect(info.username).toBe("alice@example.com");
    expect(info.groups).toEqual(expect.arrayContaining(["corp:dev", "corp:ops"]));
    const pods = await kubectl(["--context", "oidc-c1", "get", "pods", "-n", "default"], { env: env() });
    expect(pods.code).toBe(0);
    const denied = await kubectl(["--context", "oidc-c1", "create", "namespace", "nope"], { env: env() });
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain("forbidden");
  }, 120_000);

  it("records the provider sign-in as a login.succeeded audit event naming the provider", async () => {
    const events = await auditEvents(fx, "login.succeeded");
    expect(events.some((e) => e.provider === "corp" && e.user === "alice@example.com")).toBe(true);
  });

  it("re-checks the person upstream at every refresh: new groups upstream become the token's groups", async () => {
    upstream.setUsers({ alice: { ...alice, groups: ["dev", "sre"] } });
    const r = await refresh(cached()["refreshToken"] as string);
    expect(r.status).toBe(201);
    const claims = decodeJwt(r.json<{ accessToken: string }>().accessToken);
    expect(claims["groups"]).toEqual(["corp:dev", "corp:sre"]);
    // The next refresh uses the new Gatehouse refresh token (and the rotated upstream one).
    const again = await refresh(r.json<{ refreshToken: string }>().refreshToken);
    expect(again.status).toBe(201);
  });

  it("keeps existing sessions refreshing while the provider is down, and new sign-ins get a clear page", async () => {
    const first = await login();
    expect(first.exit).toBe(0);
    const token = cached()["refreshToken"] as string;
    await upstream.stop();
    try {
      const r = await refresh(token);
      expect(r.status).toBe(201);
      const ctx = await browser.newContext({ ignoreHTTPSErrors: true });
      const page = await ctx.newPage();
      const start = await page.goto(
        `${fx.gh.url}/idp/corp/start?${new URLSearchParams({
          client_id: "gatehouse-cli",
          response_type: "code",
          redirect_uri: "http://127.0.0.1:9/callback",
          code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
          code_challenge_method: "S256",
          state: "state-of-the-cli-0123456789",
        }).toString()}`,
      );
      expect(start?.status()).toBe(503);
      expect(await page.textContent("body")).toContain("Corp SSO did not answer within 10 s");
      await ctx.close();
      const failed = await auditEvents(fx, "login.failed");
      expect(failed.some((e) => e.provider === "corp" && /unavailable/.test(e.reason ?? ""))).toBe(true);
    } finally {
      await upstream.start();
    }
  }, 60_000);

  it("ends the session at the next refresh once the person is removed upstream", async () => {
    upstream.setUsers({ alice });
    const r = await login();
    expect(r.exit).toBe(0);
    const token = cached()["refreshToken"] as string;
    upstream.setUsers({});
    const refused = await refresh(token);
    expect(refused.status).toBe(401);
    const kc = await kubectl(["--context", "oidc-c1", "get", "pods", "-n", "default"], { env: env() });
    expect(kc.code).not.toBe(0);
    upstream.setUsers({ alice });
  }, 120_000);

  it("refuses a code injected into another sign-in: the provider checks that sign-in's PKCE verifier", async () => {
    const ctx = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await ctx.newPage();
    const startUrl = (state: string): string =>
      `${fx.gh.url}/idp/corp/start?${new URLSearchParams({
        client_id: "gatehouse-cli",
        response_type: "code",
        redirect_uri: "http://127.0.0.1:9/callback",
        code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        code_challenge_method: "S256",
        state,
      }).toString()}`;
    // Sign-in B is started and left at the provider; sign-in A is completed, but its callback caught.
    const b = await ctx.request.get(startUrl("cli-state-for-sign-in-b"), { maxRedirects: 0 });
    const stateB = new URL(b.headers()["location"] as string).searchParams.get("state") as string;
    await page.goto(startUrl("cli-state-for-sign-in-a"));
    // Drop sign-in A's browser binding, so Gatehouse refuses A's callback before redeeming its code:
    // the code stays fresh upstream for the attacker to inject into sign-in B.
    const keep = `__Host-gatehouse-signin-${createHash("sha256").update(stateB).digest("hex").slice(0, 16)}`;
    for (const c of await ctx.cookies(fx.gh.url))
      if (c.name.startsWith("__Host-gatehouse-signin-") && c.name !== keep)
        await ctx.clearCookies({ name: c.name });
    let caught = "";
    ctx.on("request", (r) => {
      if (r.url().startsWith(`${fx.gh.url}/idp/corp/callback`)) caught = r.url();
    });
    await page.locator('input[name="login"]').fill("alice");
    await page.locator('input[name="password"]').fill("any-password");
    await page.getByRole("button", { name: "Sign-in" }).click();
    await page.getByRole("button", { name: "Continue" }).click();
    await page.waitForLoadState("load");
    expect(await page.textContent("body")).toContain("started in another browser");
    const codeA = new URL(caught).searchParams.get("code") as string;
    const injected = await page.goto(
      `${fx.gh.url}/idp/corp/callback?${new URLSearchParams({ code: codeA, state: stateB, iss: upstream.issuer }).toString()}`,
    );
    expect(injected?.status()).toBe(401);
    expect(await page.textContent("body")).toContain("Sign-in with Corp SSO failed");
    await ctx.close();
  }, 60_000);

  it("follows the provider's key rotation: a token signed with a new key is accepted once the old key set is a minute old", async () => {
    const kid = await upstream.rotateKeys();
    // openid-client refetches the JWKS on an unknown kid when its copy is at least 60 s old.
    await new Promise((r) => setTimeout(r, 61_000));
    const r = await login();
    expect(r.exit).toBe(0);
    expect(r.text).toContain("Signed in");
    // The provider signs only with the new key (the first of its set).
    expect(kid).toBe(upstream.signingKid());
  }, 180_000);
});
