import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeJwt } from "jose";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startUpstreamOidc, type UpstreamOidc } from "../harness/oidc-provider.js";
import { gatehouse, startBrowserLogin } from "../cli/run.js";
import { startIdentityFixture, type IdentityFixture } from "../identity/fixture.js";
import { launchBrowser, signInThroughProvider } from "./browser.js";

const API = "/apis/gatehouse.io/v1alpha1";

/**
 * The generic OAuth2 provider against oidc-provider used as a plain OAuth 2.0 server (code flow,
 * client_secret_post, user info from /me; its ID token is ignored), and `gatehouse idp` end to end.
 */
describe("generic OAuth2 sign-in against oidc-provider, and the gatehouse idp commands", () => {
  let fx: IdentityFixture;
  let upstream: UpstreamOidc;
  let browser: Browser;
  let home: string;
  const bob = { email: "bob@example.com", groups: ["eng"] };
  const env = (): NodeJS.ProcessEnv => ({
    GATEHOUSE_CACHE_DIR: join(home, "cache"),
    HOME: home,
    KUBECONFIG: join(home, "kubeconfig"),
  });
  const adminEnv = (): NodeJS.ProcessEnv => ({
    ...env(),
    GATEHOUSE_SERVER: fx.gh.url,
    GATEHOUSE_CA: fx.ca,
    GATEHOUSE_USERNAME: "admin",
    GATEHOUSE_PASSWORD: readFileSync(join(fx.dir, "admin-password"), "utf8"),
  });

  beforeAll(async () => {
    fx = await startIdentityFixture();
    [upstream, browser] = await Promise.all([
      startUpstreamOidc({ bob }, [
        {
          client_id: "gatehouse-oauth2",
          client_secret: "oauth2-secret",
          redirect_uris: [`${fx.gh.url}/idp/plain/callback`],
          grant_types: ["authorization_code", "refresh_token"],
          token_endpoint_auth_method: "client_secret_post",
        },
      ]),
      launchBrowser(),
    ]);
    home = mkdtempSync(join(tmpdir(), "gatehouse-oauth2-home-"));
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await upstream?.stop();
    await fx?.gh.close();
  });

  it("creates providers with gatehouse apply -f and lists them without secrets", async () => {
    const file = join(home, "idps.yaml");
    const caFile = join(home, "upstream-ca.pem");
    writeFileSync(caFile, upstream.caPem);
    writeFileSync(
      file,
      [
        "apiVersion: gatehouse.io/v1alpha1",
        "kind: IdentityProvider",
        "metadata: {name: plain}",
        "spec:",
        "  type: oauth2",
        "  displayName: Plain OAuth",
        "  groupsPrefix: 'plain:'",
        "  oauth2:",
        `    authorizeUrl: ${upstream.issuer}/auth`,
        `    tokenUrl: ${upstream.issuer}/token`,
        `    userinfoUrl: ${upstream.issuer}/me`,
        "    clientId: gatehouse-oauth2",
        "    clientSecret: oauth2-secret",
        "    clientAuth: post",
        "    scopes: [openid, email, groups]",
        "    usernameField: email",
        // The CA from a file on the server (the OIDC suite uses caData).
        `    caFile: ${caFile}`,
        "---",
        "apiVersion: gatehouse.io/v1alpha1",
        "kind: IdentityProvider",
        "metadata: {name: broken}",
        "spec:",
        "  type: oidc",
        "  oidc: {issuer: 'https://127.0.0.1:1/realms/x', clientId: gatehouse}",
        "",
      ].join("\n"),
    );
    const applied = await gatehouse(["apply", "-f", file], { env: adminEnv() });
    expect(applied.stderr).toBe("");
    expect(applied.code).toBe(0);
    const list = await gatehouse(["idp", "list"], { env: adminEnv() });
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/NAME\s+TYPE\s+DISPLAY NAME\s+ENABLED/);
    expect(list.stdout).toMatch(/plain\s+oauth2\s+Plain OAuth\s+true/);
    const json = await gatehouse(["idp", "list", "-o", "json"], { env: adminEnv() });
    expect(JSON.parse(json.stdout).items).toHaveLength(2);
    const got = await gatehouse(["idp", "get", "plain"], { env: adminEnv() });
    expect(got.stdout).toContain("clientSecret:\n      sealed: true");
    expect(got.stdout).not.toContain("oauth2-secret");
  }, 60_000);

  it("idp test prints each check with ✓ or ✗ and exits 1 when one fails", async () => {
    const ok = await gatehouse(["idp", "test", "plain"], { env: adminEnv() });
    expect(ok.stdout).toContain("✓ authorize URL");
    expect(ok.stdout).toContain("✓ userinfo URL");
    expect(ok.code).toBe(0);
    const bad = await gatehouse(["idp", "test", "broken"], { env: adminEnv() });
    expect(bad.stdout).toMatch(/✗ discovery: .*https:\/\/127\.0\.0\.1:1\/realms\/x/);
    expect(bad.stdout).toContain("fix the spec with gatehouse apply -f");
    expect(bad.code).toBe(1);
    const missing = await gatehouse(["idp", "test", "nope"], { env: adminEnv() });
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain("not found");
  }, 60_000);

  it("signs in through the OAuth2 server's pages and maps its user info; refresh re-reads it", async () => {
    const { authorizeUrl, exit } = await startBrowserLogin(fx.gh.url, fx.ca, join(home, "kubeconfig"), env());
    const r = await signInThroughProvider(browser, authorizeUrl, "Sign in with Plain OAuth", "bob");
    expect(r.text).toContain("Signed in");
    expect(await exit).toBe(0);
    const files = readdirSync(join(home, "cache")).filter((f) => f.endsWith(".json"));
    const cached = JSON.parse(readFileSync(join(home, "cache", files[0] as string), "utf8")) as Record<
      string,
      string
    >;
    expect(cached["user"]).toBe("bob@example.com");
    expect(decodeJwt(cached["accessToken"] as string)["groups"]).toEqual(["plain:eng"]);
    upstream.setUsers({ bob: { ...bob, groups: ["eng", "oncall"] } });
    const refreshed = await fx.call("POST", `${API}/token`, {
      body: { refreshToken: cached["refreshToken"] },
    });
    expect(refreshed.status).toBe(201);
    const next = refreshed.json<{ accessToken: string; refreshToken: string }>();
    expect(decodeJwt(next.accessToken)["groups"]).toEqual(["plain:eng", "plain:oncall"]);
    upstream.setUsers({});
    const gone = await fx.call("POST", `${API}/token`, { body: { refreshToken: next.refreshToken } });
    expect(gone.status).toBe(401);
  }, 90_000);

  it("OIDC with userinfo: groups only the userinfo endpoint gives, and kube's default issuer# username prefix", async () => {
    // This provider keeps scope claims out of the ID token (conformIdTokenClaims), as many do.
    const conform = await startUpstreamOidc(
      { carol: { email: "carol@example.com", groups: ["qa"] } },
      [
        {
          client_id: "gatehouse",
          client_secret: "conform-secret",
          redirect_uris: [`${fx.gh.url}/idp/conform/callback`],
          grant_types: ["authorization_code", "refresh_token"],
        },
      ],
      { conformIdTokenClaims: true },
    );
    try {
      await fx.admin("POST", `${API}/identityproviders`, {
        apiVersion: "gatehouse.io/v1alpha1",
        kind: "IdentityProvider",
        metadata: { name: "conform" },
        spec: {
          type: "oidc",
          displayName: "Conform",
          oidc: {
            issuer: conform.issuer,
            clientId: "gatehouse",
            clientSecret: "conform-secret",
            scopes: ["openid", "email", "groups"],
            userinfo: true,
            caData: conform.caData,
          },
        },
      });
      const h = mkdtempSync(join(tmpdir(), "gatehouse-conform-home-"));
      const { authorizeUrl, exit } = await startBrowserLogin(fx.gh.url, fx.ca, join(h, "kc"), {
        GATEHOUSE_CACHE_DIR: join(h, "cache"),
        HOME: h,
      });
      const r = await signInThroughProvider(browser, authorizeUrl, "Sign in with Conform", "carol");
      expect(r.text).toContain("Signed in");
      expect(await exit).toBe(0);
      const files = readdirSync(join(h, "cache")).filter((f) => f.endsWith(".json"));
      const c = JSON.parse(readFileSync(join(h, "cache", files[0] as string), "utf8")) as Record<
        string,
        string
      >;
      // usernameClaim sub, no usernamePrefix set: kube-apiserver's default, the issuer URL and "#".
      expect(c["user"]).toBe(`${conform.issuer}#carol`);
      expect(decodeJwt(c["accessToken"] as string)["groups"]).toEqual(["qa"]);
    } finally {
      await conform.stop();
    }
  }, 90_000);

  it("idp delete removes a provider; its button leaves the sign-in page", async () => {
    const del = await gatehouse(["idp", "delete", "broken"], { env: adminEnv() });
    expect(del.stdout).toContain("identityprovider/broken deleted");
    const list = await gatehouse(["idp", "list", "-o", "yaml"], { env: adminEnv() });
    expect(list.stdout).not.toContain("name: broken");
    const help = await gatehouse(["idp", "--help"], { env: adminEnv() });
    expect(help.stdout).toContain("kind: IdentityProvider");
  });
});
