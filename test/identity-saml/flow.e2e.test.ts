import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser } from "../identity-oidc/browser.js";
import { startClusters, type TestCluster } from "../harness/clusters.js";
import { freePort } from "../harness/ports.js";
import { rsaCertificate, startSimpleSamlPhp, type SimpleSamlPhp } from "../harness/simplesamlphp.js";
import { kubectl } from "../e2e/kubectl.js";
import { startBrowserLogin } from "../cli/run.js";
import { startIdentityFixture, type IdentityFixture } from "../identity/fixture.js";
import { auditEvents } from "../identity-oidc/audit.js";
import { Browser, signInAtIdp, type SamlPost } from "./browser.js";
import { decode, encode } from "./fixture.js";

const API = "/apis/gatehouse.io/v1alpha1";

describe("SAML sign-in through Gatehouse's pages and SimpleSAMLphp, then kubectl through the gateway", () => {
  let fx: IdentityFixture;
  let idp: SimpleSamlPhp;
  let cluster: TestCluster;
  let home: string;
  let ca: string;

  beforeAll(async () => {
    fx = await startIdentityFixture();
    ca = readFileSync(fx.ca, "utf8");
    let clusters: TestCluster[];
    [idp, clusters] = await Promise.all([startSimpleSamlPhp(), startClusters(1, { name: "saml-c1" })]);
    cluster = clusters[0] as TestCluster;
    idp.setServiceProviders([
      { entityID: `${fx.gh.url}/idp/corp`, acsURL: `${fx.gh.url}/idp/corp/callback` },
    ]);
    fx.addCluster(cluster);
    await fx.admin("POST", `${API}/identityproviders`, {
      apiVersion: "gatehouse.io/v1alpha1",
      kind: "IdentityProvider",
      metadata: { name: "corp" },
      spec: {
        type: "saml",
        displayName: "Corp SAML",
        groupsPrefix: "saml:",
        saml: { idpMetadataURL: idp.metadataURL, groupsAttribute: "groups", emailAttribute: "mail" },
      },
    });
    await fx.admin("POST", `${API}/accessbindings`, {
      apiVersion: "gatehouse.io/v1alpha1",
      kind: "AccessBinding",
      metadata: { name: "saml-developers-view" },
      spec: {
        subjects: [{ kind: "Group", name: "saml:developers" }],
        roleRef: { name: "view" },
        clusters: { names: ["saml-c1"] },
      },
    });
    await fx.gh.reconciler.runOnce();
    home = mkdtempSync(join(tmpdir(), "gatehouse-saml-home-"));
  }, 240_000);
  afterAll(async () => {
    await idp?.stop();
    await fx?.gh.close();
    await cluster?.stop();
  });

  const env = (): NodeJS.ProcessEnv => ({
    GATEHOUSE_CACHE_DIR: join(home, "cache"),
    HOME: home,
    KUBECONFIG: join(home, "kubeconfig"),
  });

  /** From the CLI's /authorize URL: Gatehouse's page, its SAML button, the IdP's login: the POST to the ACS. */
  async function toAcs(
    browser: Browser,
    authorizeURL: string,
    user = "alice",
    pw = "alice-pass-1",
  ): Promise<SamlPost> {
    const page = await browser.follow(authorizeURL);
    expect(page.page.status).toBe(200);
    const button = /href="(\/idp\/corp\/start\?[^"]+)"[^>]*>Sign in with Corp SAML</.exec(page.html);
    expect(button, "the sign-in page offers the SAML provider").not.toBeNull();
    const start = new URL((button?.[1] ?? "").replace(/&amp;/g, "&"), fx.gh.url).toString();
    const post = await signInAtIdp(browser, start, user, pw);
    expect(post.acs).toBe(`${fx.gh.url}/idp/corp/callback`);
    return post;
  }

  const postToAcs = (browser: Browser, post: SamlPost, samlResponse = post.SAMLResponse) =>
    browser.request(post.acs, { form: { SAMLResponse: samlResponse, RelayState: post.RelayState ?? "" } });

  /** A sign-in started the way the CLI starts one, up to the IdP's POST back (not sent). */
  async function startedSignIn(browser: Browser): Promise<SamlPost> {
    const q = new URLSearchParams({
      client_id: "gatehouse-cli",
      response_type: "code",
      redirect_uri: "http://127.0.0.1:9/callback",
      code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
      code_challenge_method: "S256",
      state: "state-of-the-cli-0123456789",
    });
    return toAcs(browser, `${fx.gh.url}/authorize?${q.toString()}`);
  }

  it("serves the SP metadata the IdP administrator imports", async () => {
    const r = await fx.call("GET", "/idp/corp/metadata");
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toMatch(/^application\/samlmetadata\+xml/);
    expect(r.body).toContain(`entityID="${fx.gh.url}/idp/corp"`);
    expect(r.body).toContain(`Location="${fx.gh.url}/idp/corp/callback"`);
    expect((await fx.call("GET", "/idp/nosuch/metadata")).status).toBe(404);
  });

  it("runs idp test for the SAML provider: metadata, certificates, single sign-on", async () => {
    const r = await fx.admin("POST", `${API}/identityproviders/corp/test`);
    const status = r["status"] as { ok: boolean; checks: { step: string; ok: boolean; message: string }[] };
    expect(status.checks.map((c) => [c.step, c.ok])).toEqual([
      ["metadata", true],
      ["certificates", true],
      ["single sign-on", true],
    ]);
    expect(status.ok).toBe(true);
  });

  it("explains in idp test an IdP metadata URL nobody answers at", async () => {
    const port = await freePort();
    await fx.admin("POST", `${API}/identityproviders`, {
      apiVersion: "gatehouse.io/v1alpha1",
      kind: "IdentityProvider",
      metadata: { name: "broken" },
      spec: { type: "saml", timeoutSeconds: 2, saml: { idpMetadataURL: `http://127.0.0.1:${port}/md` } },
    });
    const r = await fx.admin("POST", `${API}/identityproviders/broken/test`);
    const status = r["status"] as { ok: boolean; checks: { step: string; ok: boolean; message: string }[] };
    expect(status.ok).toBe(false);
    expect(status.checks[0]).toMatchObject({ step: "metadata", ok: false });
    expect(status.checks[0]?.message).toMatch(
      /cannot use the IdP metadata from http:\/\/127\.0\.0\.1:\d+\/md: .*ECONNREFUSED/,
    );
  });

  it("seals spPrivateKey, never serves it back, and publishes its certificate in the SP metadata", async () => {
    const sp = await rsaCertificate("Gatehouse SP", new Date(Date.now() - 60_000), 2);
    await fx.admin("POST", `${API}/identityproviders`, {
      apiVersion: "gatehouse.io/v1alpha1",
      kind: "IdentityProvider",
      metadata: { name: "signing" },
      spec: {
        type: "saml",
        saml: { idpMetadataURL: idp.metadataURL, spPrivateKey: sp.keyPem, spCertificate: sp.certPem },
      },
    });
    const got = await fx.admin("GET", `${API}/identityproviders/signing`);
    const served = JSON.stringify(got);
    expect(served).not.toContain("PRIVATE KEY");
    expect((got["spec"] as { saml: Record<string, unknown> }).saml["spPrivateKey"]).toEqual({ sealed: true });
    const md = await fx.call("GET", "/idp/signing/metadata");
    expect(md.status).toBe(200);
    expect(md.body).toContain('AuthnRequestsSigned="true"');
    expect(md.body).toContain(sp.certPem.split("\n")[1] as string);
    expect(md.body).not.toContain("PRIVATE KEY");
  });

  it("signs in at the IdP; gatehouse login writes a kubeconfig kubectl uses through the gateway with the IdP's groups", async () => {
    const { authorizeUrl, exit } = await startBrowserLogin(fx.gh.url, fx.ca, join(home, "kubeconfig"), env());
    const browser = new Browser(ca);
    const post = await toAcs(browser, authorizeUrl);
    const acs = await postToAcs(browser, post);
    expect(acs.status).toBe(303);
    const loopback = acs.location as string;
    expect(loopback).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/.*[?&]code=/);
    const done = await browser.request(loopback);
    expect(done.status).toBe(200);
    expect(await exit).toBe(0);

    const files = readdirSync(join(home, "cache")).filter((f) => f.endsWith(".json"));
    expect(JSON.parse(readFileSync(join(home, "cache", files[0] as string), "utf8"))["user"]).toBe("alice");
    const who = await kubectl(["--context", "saml-c1", "auth", "whoami", "-o", "json"], { env: env() });
    expect(who.stderr).toBe("");
    const info = (JSON.parse(who.stdout) as { status: { userInfo: { username: string; groups: string[] } } })
      .status.userInfo;
    expect(info.username).toBe("alice");
    expect(info.groups).toEqual(expect.arrayContaining(["saml:developers", "saml:ops"]));
    const pods = await kubectl(["--context", "saml-c1", "get", "pods", "-n", "default"], { env: env() });
    expect(pods.code).toBe(0);
    const denied = await kubectl(["--context", "saml-c1", "create", "namespace", "nope"], { env: env() });
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain("forbidden");

    const ok = await auditEvents(fx, "login.succeeded");
    expect(ok.some((e) => e.provider === "corp" && e.user === "alice")).toBe(true);
  }, 120_000);

  it("signs in the same way in headless Chromium, the IdP's page posting the response by itself", async () => {
    const chrome = await launchBrowser();
    try {
      const { authorizeUrl, exit } = await startBrowserLogin(fx.gh.url, fx.ca, join(home, "kc-chromium"), {
        ...env(),
        KUBECONFIG: join(home, "kc-chromium"),
      });
      const ctx = await chrome.newContext({ ignoreHTTPSErrors: true });
      const page = await ctx.newPage();
      await page.goto(authorizeUrl);
      await page.getByRole("link", { name: "Sign in with Corp SAML" }).click();
      await page.locator('input[name="username"]').fill("alice");
      await page.locator('input[name="password"]').fill("alice-pass-1");
      await page.locator('input[name="password"]').press("Enter");
      // SimpleSAMLphp's page submits the SAMLResponse form itself; Gatehouse sends the browser on to the CLI.
      await page.waitForURL((u) => u.protocol === "http:" && u.searchParams.has("code"), { timeout: 30_000 });
      expect(await exit).toBe(0);
      const who = await kubectl(
        ["--kubeconfig", join(home, "kc-chromium"), "--context", "saml-c1", "auth", "whoami"],
        {
          env: env(),
        },
      );
      expect(who.stdout).toMatch(/Username\s+alice/);
      await ctx.close();
    } finally {
      await chrome.close();
    }
  }, 120_000);

  it("refuses a SAMLResponse posted again, and audits it", async () => {
    const browser = new Browser(ca);
    const post = await startedSignIn(browser);
    const first = await postToAcs(browser, post);
    expect(first.status).toBe(303);
    const again = await postToAcs(browser, post);
    expect(again.status).toBe(400);
    expect(again.body).toContain("already used");
    const failed = await auditEvents(fx, "login.failed");
    expect(failed.some((e) => e.provider === "corp" && /already used/.test(e.reason ?? ""))).toBe(true);
  });

  it("refuses a response changed after signing with a page that says why, and audits the refusal", async () => {
    const browser = new Browser(ca);
    const post = await startedSignIn(browser);
    const tampered = encode(decode(post.SAMLResponse).replace(">developers<", ">cluster-admins<"));
    const r = await postToAcs(browser, post, tampered);
    expect(r.status).toBe(401);
    expect(r.body).toContain("refused (signature)");
    expect(r.body).not.toContain("cluster-admins");
    const failed = await auditEvents(fx, "login.failed");
    expect(failed.some((e) => e.provider === "corp" && /refused \(signature\)/.test(e.reason ?? ""))).toBe(
      true,
    );
    // The tampered attempt used up that sign-in: the genuine response cannot follow it.
    expect((await postToAcs(browser, post)).status).toBe(400);
  });

  it("refuses a sign-in whose response comes back in another browser (no binding cookie)", async () => {
    const post = await startedSignIn(new Browser(ca));
    const r = await postToAcs(new Browser(ca), post);
    expect(r.status).toBe(400);
    expect(r.body).toContain("started in another browser");
    expect(r.location).toBeUndefined();
  });
});
