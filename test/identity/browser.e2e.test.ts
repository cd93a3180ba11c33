import { randomBytes } from "node:crypto";
import { get } from "node:http";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBrowserLogin } from "../cli/run.js";
import { call, type Reply } from "../server/client.js";
import { pkceChallenge } from "../../src/identity/index.js";
import { startIdentityFixture, type IdentityFixture } from "./fixture.js";

const PW = "correct horse battery staple";

/** A plain HTTP GET to the CLI's loopback listener, as the browser follows the redirect. */
function loopbackGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    }).on("error", reject);
  });
}

describe("browser sign-in: authorization code with PKCE and a loopback redirect", () => {
  let fx: IdentityFixture;
  beforeAll(async () => {
    fx = await startIdentityFixture();
    await fx.user("alice", PW, ["dev"]);
  });
  afterAll(async () => {
    await fx?.gh.close();
  });

  /** Open the page first, as a browser does: it sets the anti-CSRF cookie and the form's field. */
  const submit = async (fields: Record<string, string>): Promise<Reply> => {
    const { username: _u, password: _p, ...query } = fields;
    const page = await call(fx.gh.url, fx.ca, "GET", `/authorize?${new URLSearchParams(query).toString()}`);
    const cookie = String(page.headers["set-cookie"] ?? "").split(";")[0] ?? "";
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)?.[1];
    return call(fx.gh.url, fx.ca, "POST", "/authorize", {
      headers: { "content-type": "application/x-www-form-urlencoded", ...(cookie ? { cookie } : {}) },
      body: new URLSearchParams({ ...fields, ...(csrf ? { csrf } : {}) }).toString(),
    });
  };
  const params = (redirect: string, challenge: string): Record<string, string> => ({
    response_type: "code",
    client_id: "gatehouse-cli",
    redirect_uri: redirect,
    code_challenge: challenge,
    code_challenge_method: "S256",
    state: randomBytes(16).toString("base64url"),
  });
  const token = (body: Record<string, string>): Promise<Reply> =>
    fx.call("POST", "/apis/gatehouse.io/v1alpha1/token", { body });
  /** Sign in on the page and return the code from the redirect. */
  async function codeFor(verifier: string, redirect = "http://127.0.0.1:9/callback"): Promise<string> {
    const r = await submit({ ...params(redirect, pkceChallenge(verifier)), username: "alice", password: PW });
    expect(r.status).toBe(303);
    return new URL(r.headers["location"] as string).searchParams.get("code") as string;
  }

  it("signs the CLI in when the person signs in on the page the CLI points at", async () => {
    const home = mkdtempSync(join(tmpdir(), "gh-browser-"));
    const { authorizeUrl, exit } = await startBrowserLogin(fx.gh.url, fx.ca, join(home, "kc"), {
      GATEHOUSE_CACHE_DIR: join(home, "cache"),
      HOME: home,
    });
    const url = new URL(authorizeUrl);
    const page = await call(fx.gh.url, fx.ca, "GET", `${url.pathname}${url.search}`);
    expect(page.status).toBe(200);
    expect(page.headers["content-security-policy"]).toContain("form-action 'self' http://127.0.0.1:*");
    const fields = Object.fromEntries(url.searchParams);
    const signedIn = await submit({ ...fields, username: "alice", password: PW });
    expect(signedIn.status).toBe(303);
    const location = signedIn.headers["location"] as string;
    expect(location.startsWith(fields["redirect_uri"] as string)).toBe(true);
    expect(new URL(location).searchParams.get("state")).toBe(fields["state"]);
    const callback = await loopbackGet(location);
    expect(callback.body).toContain("Signed in");
    expect(await exit).toBe(0);
    const files = readdirSync(join(home, "cache")).filter((f) => f.endsWith(".json"));
    const cached = JSON.parse(readFileSync(join(home, "cache", files[0] as string), "utf8")) as Record<
      string,
      string
    >;
    expect(cached["user"]).toBe("alice");
    expect(
      (
        await fx.call("GET", "/apis/gatehouse.io/v1alpha1/sessions", {
          bearer: cached["accessToken"] as string,
        })
      ).status,
    ).toBe(200);
  });

  it("fails the CLI sign-in when the redirect carries another state (a forged callback)", async () => {
    const home = mkdtempSync(join(tmpdir(), "gh-browser-"));
    const { authorizeUrl, exit, stderr } = await startBrowserLogin(fx.gh.url, fx.ca, join(home, "kc"), {
      GATEHOUSE_CACHE_DIR: join(home, "cache"),
      HOME: home,
    });
    const redirect = new URL(authorizeUrl).searchParams.get("redirect_uri") as string;
    const forged = await loopbackGet(`${redirect}?code=attacker-code&state=wrong-state-value`);
    expect(forged.body).toContain("failed");
    expect(await exit).toBe(2);
    expect(stderr()).toContain("state");
  });

  it("never redirects to anything but a loopback address, and requires PKCE with S256", async () => {
    const challenge = pkceChallenge(randomBytes(32).toString("base64url"));
    for (const redirect of [
      "https://evil.example/callback",
      "http://localhost:8000/callback",
      "http://127.0.0.1/callback",
      "http://127.0.0.1:8000/callback?x=1",
      "http://user@127.0.0.1:8000/callback",
    ]) {
      const r = await submit({ ...params(redirect, challenge), username: "alice", password: PW });
      expect(r.status).toBe(400);
      expect(r.headers["location"]).toBeUndefined();
    }
    const plain = await submit({
      ...params("http://127.0.0.1:9/cb", challenge),
      code_challenge_method: "plain",
      username: "alice",
      password: PW,
    });
    expect(plain.status).toBe(400);
    const other = await submit({
      ...params("http://127.0.0.1:9/cb", challenge),
      client_id: "evil",
      username: "alice",
      password: PW,
    });
    expect(other.status).toBe(400);
    const get = await call(
      fx.gh.url,
      fx.ca,
      "GET",
      `/authorize?${new URLSearchParams(params("https://evil.example/", challenge))}`,
    );
    expect(get.status).toBe(400);
  });

  it("does not redirect on a wrong password", async () => {
    const r = await submit({
      ...params("http://127.0.0.1:9/cb", pkceChallenge(randomBytes(32).toString("base64url"))),
      username: "alice",
      password: "wrong wrong wrong",
    });
    expect(r.status).toBe(401);
    expect(r.headers["location"]).toBeUndefined();
    expect(r.body).toContain("invalid username or password");
  });

  it("redeems a code once, only with its verifier and redirect URI, and burns it on any mismatch", async () => {
    const verifier = randomBytes(32).toString("base64url");
    const redirect = "http://127.0.0.1:9/callback";
    const base = { grant_type: "authorization_code", client_id: "gatehouse-cli", redirect_uri: redirect };
    const wrongVerifier = await codeFor(verifier);
    expect(
      (
        await token({ ...base, code: wrongVerifier, code_verifier: randomBytes(32).toString("base64url") })
      ).json(),
    ).toEqual({
      error: "invalid_grant",
    });
    expect((await token({ ...base, code: wrongVerifier, code_verifier: verifier })).status).toBe(400);
    const wrongRedirect = await codeFor(verifier);
    expect(
      (
        await token({
          ...base,
          code: wrongRedirect,
          code_verifier: verifier,
          redirect_uri: "http://127.0.0.1:10/callback",
        })
      ).status,
    ).toBe(400);
    const good = await codeFor(verifier);
    expect(
      (await token({ ...base, code: good, code_verifier: verifier, client_id: "other" })).json(),
    ).toEqual({
      error: "invalid_client",
    });
    const ok = await token({ ...base, code: good, code_verifier: verifier });
    expect(ok.status).toBe(201);
    expect(ok.json()["user"]).toBe("alice");
    expect((await token({ ...base, code: good, code_verifier: verifier })).json()).toEqual({
      error: "invalid_grant",
    });
  });
});
