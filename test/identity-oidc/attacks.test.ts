import { createServer, type Server, type Socket } from "node:net";
import { createHash, randomBytes } from "node:crypto";
import { SignJWT, UnsecuredJWT, generateKeyPair, type JWTPayload } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, type Reply } from "../server/client.js";
import { startIdentityFixture, type IdentityFixture } from "../identity/fixture.js";
import { startAttackerIssuer, type AttackerIssuer } from "./attacker-issuer.js";
import { auditEvents } from "./audit.js";

const API = "/apis/gatehouse.io/v1alpha1";
const LOOPBACK = "http://127.0.0.1:9/callback";

/** A CLI's authorize parameters (loopback redirect, PKCE S256). */
function cliParams(redirect = LOOPBACK): Record<string, string> {
  return {
    client_id: "gatehouse-cli",
    response_type: "code",
    redirect_uri: redirect,
    code_challenge: createHash("sha256").update(randomBytes(32).toString("base64url")).digest("base64url"),
    code_challenge_method: "S256",
    state: randomBytes(16).toString("base64url"),
  };
}

describe("attacks on provider sign-in fail closed", () => {
  let fx: IdentityFixture;
  let evil: AttackerIssuer;
  let silent: Server;
  const sockets: Socket[] = [];

  const provider = (name: string, spec: Record<string, unknown>) =>
    fx.admin("POST", `${API}/identityproviders`, {
      apiVersion: "gatehouse.io/v1alpha1",
      kind: "IdentityProvider",
      metadata: { name },
      spec,
    });

  beforeAll(async () => {
    fx = await startIdentityFixture();
    evil = await startAttackerIssuer();
    silent = createServer((s) => sockets.push(s)); // accepts, never answers
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", () => r()));
    const oidc = (extra: Record<string, unknown> = {}) => ({
      issuer: evil.url,
      clientId: "gatehouse",
      clientSecret: "s3cret",
      caData: evil.caData,
      usernameClaim: "preferred_username",
      ...extra,
    });
    await provider("evil", { type: "oidc", displayName: "Evil", usernamePrefix: "-", oidc: oidc() });
    await provider("evil2", { type: "oidc", displayName: "Evil 2", usernamePrefix: "-", oidc: oidc() });
    const port = (silent.address() as { port: number }).port;
    await provider("slow", {
      type: "oidc",
      displayName: "Slow",
      timeoutSeconds: 1,
      oidc: { issuer: `https://127.0.0.1:${port}`, clientId: "gatehouse" },
    });
    await fx.user("mallory", "mallorys-long-password");
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    silent?.close();
    await evil?.close();
    await fx?.gh.close();
  });

  /** Start a sign-in at a provider: the upstream URL (with state and nonce) and the binding cookie. */
  async function start(name = "evil", params = cliParams()) {
    const r = await call(
      fx.gh.url,
      fx.ca,
      "GET",
      `/idp/${name}/start?${new URLSearchParams(params).toString()}`,
    );
    expect(r.status).toBe(303);
    const upstream = new URL(r.headers["location"] as string);
    const cookie = (r.headers["set-cookie"] as string[])[0]?.split(";")[0] as string;
    return {
      state: upstream.searchParams.get("state") as string,
      nonce: upstream.searchParams.get("nonce") as string,
      challenge: upstream.searchParams.get("code_challenge") as string,
      cookie,
      params,
    };
  }
  const callback = (name: string, query: Record<string, string>, cookie?: string): Promise<Reply> =>
    call(fx.gh.url, fx.ca, "GET", `/idp/${name}/callback?${new URLSearchParams(query).toString()}`, {
      headers: cookie ? { cookie } : {},
    });
  const claims = (nonce: string, extra: JWTPayload = {}): JWTPayload => ({
    iss: evil.url,
    aud: "gatehouse",
    sub: "subject-1",
    preferred_username: "erin",
    nonce,
    ...extra,
  });
  const signed = (c: JWTPayload, exp: string | number = "5m") =>
    new SignJWT(c)
      .setProtectedHeader({ alg: "RS256", kid: "good" })
      .setIssuedAt()
      .setExpirationTime(exp)
      .sign(evil.privateKey);
  /** Run a sign-in whose token endpoint answers `idToken(nonce)`. */
  async function signInWith(idToken: (nonce: string) => Promise<string> | string, name = "evil") {
    const s = await start(name);
    evil.nextIdToken = await idToken(s.nonce);
    return { s, r: await callback(name, { code: "a-code", state: s.state }, s.cookie) };
  }
  const refused = (r: Reply): void => {
    expect(r.status).toBe(401);
    expect(r.headers["location"]).toBeUndefined();
    expect(r.body).toContain("Sign-in with Evil failed");
  };

  it("signs in with a correctly signed ID token (the control case), sending PKCE upstream", async () => {
    const { s, r } = await signInWith((nonce) => signed(claims(nonce)));
    expect(r.status).toBe(303);
    const to = new URL(r.headers["location"] as string);
    expect(`${to.origin}${to.pathname}`).toBe(LOOPBACK);
    expect(to.searchParams.get("state")).toBe(s.params["state"]);
    const sent = evil.tokenRequests.at(-1) as URLSearchParams;
    const verifier = sent.get("code_verifier") as string;
    expect(createHash("sha256").update(verifier).digest("base64url")).toBe(s.challenge);
  });

  it("refuses an unsigned ID token (alg none)", async () => {
    refused(
      (
        await signInWith((nonce) =>
          new UnsecuredJWT(claims(nonce)).setIssuedAt().setExpirationTime("5m").encode(),
        )
      ).r,
    );
  });

  it("refuses an ID token HMAC-signed with the provider's public key (HS256 key confusion)", async () => {
    const { r } = await signInWith((nonce) =>
      new SignJWT(claims(nonce))
        .setProtectedHeader({ alg: "HS256", kid: "good" })
        .setIssuedAt()
        .setExpirationTime("5m")
        .sign(new TextEncoder().encode(evil.publicPem)),
    );
    refused(r);
  });

  it("refuses an ID token signed by a key the provider does not publish", async () => {
    const other = await generateKeyPair("RS256");
    const { r } = await signInWith((nonce) =>
      new SignJWT(claims(nonce))
        .setProtectedHeader({ alg: "RS256", kid: "good" })
        .setIssuedAt()
        .setExpirationTime("5m")
        .sign(other.privateKey),
    );
    refused(r);
  });

  it("refuses ID tokens with the wrong issuer, the wrong audience, or past their expiry", async () => {
    refused((await signInWith((nonce) => signed(claims(nonce, { iss: "https://other.example" })))).r);
    refused((await signInWith((nonce) => signed(claims(nonce, { aud: "someone-else" })))).r);
    refused(
      (
        await signInWith((nonce) =>
          signed(
            { ...claims(nonce), iat: Math.floor(Date.now() / 1000) - 7200 },
            Math.floor(Date.now() / 1000) - 3600,
          ),
        )
      ).r,
    );
  });

  it("refuses an ID token with a wrong or missing nonce (a replayed or injected token)", async () => {
    refused((await signInWith(() => signed(claims("not-the-nonce")))).r);
    refused((await signInWith(() => signed({ ...claims(""), nonce: undefined }))).r);
  });

  it("refuses a callback with a missing, unknown, or foreign state, and one from another browser", async () => {
    evil.nextIdToken = "";
    const missing = await callback("evil", { code: "c" });
    expect(missing.status).toBe(400);
    const unknown = await callback("evil", { code: "c", state: randomBytes(32).toString("base64url") });
    expect(unknown.status).toBe(400);
    const s = await start("evil");
    const foreign = await callback("evil2", { code: "c", state: s.state }, s.cookie);
    expect(foreign.status).toBe(400);
    const t = await start("evil");
    const noCookie = await callback("evil", { code: "c", state: t.state });
    expect(noCookie.status).toBe(400);
    expect(noCookie.body).toContain("another browser");
    // Each refused callback used its sign-in up: the right browser cannot finish it afterwards either.
    evil.nextIdToken = await signed(claims(t.nonce));
    expect((await callback("evil", { code: "c", state: t.state }, t.cookie)).status).toBe(400);
    for (const r of [missing, unknown, foreign, noCookie]) expect(r.headers["location"]).toBeUndefined();
  });

  it("refuses a replayed callback: a sign-in completes once", async () => {
    const { s, r } = await signInWith((nonce) => signed(claims(nonce)));
    expect(r.status).toBe(303);
    const again = await callback("evil", { code: "a-code", state: s.state }, s.cookie);
    expect(again.status).toBe(400);
    expect(again.headers["location"]).toBeUndefined();
  });

  it("never starts a sign-in that would return anywhere but a loopback address", async () => {
    for (const redirect of [
      "https://evil.example/callback",
      "http://localhost:8000/cb",
      "http://127.0.0.1/cb",
      "http://127.0.0.1:8000/cb?x=1",
      "http://user@127.0.0.1:8000/cb",
      "//evil.example/cb",
    ]) {
      const r = await call(
        fx.gh.url,
        fx.ca,
        "GET",
        `/idp/evil/start?${new URLSearchParams(cliParams(redirect)).toString()}`,
      );
      expect(r.status).toBe(400);
      expect(r.headers["location"]).toBeUndefined();
    }
  });

  it("will not let a provider sign in as a local user, as another provider's user, or as system:", async () => {
    const local = await signInWith((nonce) => signed(claims(nonce, { preferred_username: "mallory" })));
    expect(local.r.status).toBe(403);
    expect(local.r.body).toContain("local user");
    const first = await signInWith((nonce) =>
      signed(claims(nonce, { sub: "owner", preferred_username: "dana" })),
    );
    expect(first.r.status).toBe(303);
    const other = await signInWith(
      (nonce) => signed(claims(nonce, { sub: "owner", preferred_username: "dana" })),
      "evil2",
    );
    expect(other.r.status).toBe(403);
    const sameProviderOtherSubject = await signInWith((nonce) =>
      signed(claims(nonce, { sub: "impostor", preferred_username: "dana" })),
    );
    expect(sameProviderOtherSubject.r.status).toBe(403);
    const system = await signInWith((nonce) => signed(claims(nonce, { preferred_username: "system:admin" })));
    expect(system.r.status).toBe(403);
    // The local user still signs in with their password, and kept their (absent) provider link.
    const login = await fx.call("POST", `${API}/login`, {
      body: { username: "mallory", password: "mallorys-long-password" },
    });
    expect(login.status).toBe(201);
  });

  it("answers a clear page within the provider's timeout when it does not answer at all", async () => {
    const r = await call(
      fx.gh.url,
      fx.ca,
      "GET",
      `/idp/slow/start?${new URLSearchParams(cliParams()).toString()}`,
    );
    expect(r.status).toBe(503);
    expect(r.body).toContain("Slow did not answer within 1 s");
    expect(r.headers["location"]).toBeUndefined();
  });

  it("refuses a cross-site POST of the password form (no anti-CSRF cookie, or a field from another flow)", async () => {
    const p = cliParams();
    const form = (extra: Record<string, string>, cookie?: string) =>
      call(fx.gh.url, fx.ca, "POST", "/authorize", {
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          origin: "https://evil.example",
          ...(cookie ? { cookie } : {}),
        },
        body: new URLSearchParams({
          ...p,
          username: "mallory",
          password: "mallorys-long-password",
          ...extra,
        }).toString(),
      });
    const bare = await form({});
    expect(bare.status).toBe(403);
    expect(bare.headers["location"]).toBeUndefined();
    // A page opened for another flow gives a cookie and a field that do not fit this flow.
    const other = await call(
      fx.gh.url,
      fx.ca,
      "GET",
      `/authorize?${new URLSearchParams(cliParams()).toString()}`,
    );
    const cookie = String((other.headers["set-cookie"] as string[])[0]).split(";")[0] as string;
    const otherField = /name="csrf" value="([^"]+)"/.exec(other.body)?.[1] as string;
    expect((await form({ csrf: otherField }, cookie)).status).toBe(403);
    expect((await form({ csrf: otherField })).status).toBe(403);
    // The cookie is __Host-, Secure, HttpOnly and SameSite=Strict: browsers do not send it cross-site.
    expect(String((other.headers["set-cookie"] as string[])[0])).toMatch(
      /^__Host-gatehouse-csrf=[^;]+; Path=\/; Secure; HttpOnly; SameSite=Strict/,
    );
    // The same browser, on this flow's own page, signs in.
    const mine = await call(fx.gh.url, fx.ca, "GET", `/authorize?${new URLSearchParams(p).toString()}`);
    const field = /name="csrf" value="([^"]+)"/.exec(mine.body)?.[1] as string;
    const ok = await form({ csrf: field }, String((mine.headers["set-cookie"] as string[])[0]).split(";")[0]);
    expect(ok.status).toBe(303);
  });

  it("records every refused provider sign-in as a login.failed audit event", async () => {
    const failed = await auditEvents(fx, "login.failed");
    const evilFailures = failed.filter((e) => e.provider === "evil" || e.provider === "evil2");
    expect(evilFailures.length).toBeGreaterThanOrEqual(12);
    expect(evilFailures.some((e) => /local user/.test(e.reason ?? ""))).toBe(true);
    expect(evilFailures.some((e) => /another browser/.test(e.reason ?? ""))).toBe(true);
    expect(failed.some((e) => e.provider === "slow" && /unavailable/.test(e.reason ?? ""))).toBe(true);
  });
});
