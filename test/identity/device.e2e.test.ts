import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGatehouseProcess } from "../cli/run.js";
import { call } from "../server/client.js";
import { startIdentityFixture, type IdentityFixture } from "./fixture.js";

const PW = "correct horse battery staple";

describe("gatehouse login --device-code against a running Gatehouse", () => {
  let fx: IdentityFixture;
  beforeAll(async () => {
    fx = await startIdentityFixture();
    await fx.user("alice", PW, ["dev"]);
  });
  afterAll(async () => {
    await fx?.gh.close();
  });

  const approve = (form: Record<string, string>) =>
    call(fx.gh.url, fx.ca, "POST", "/device", {
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(form).toString(),
    });

  async function startLogin(home: string) {
    const p = await startGatehouseProcess(
      [
        "login",
        fx.gh.url,
        "--device-code",
        "--certificate-authority",
        fx.ca,
        "--kubeconfig",
        join(home, "kc"),
      ],
      /enter the code ([A-Z]{4}-[A-Z]{4})/,
      { env: { GATEHOUSE_CACHE_DIR: join(home, "cache"), HOME: home } },
    );
    const exit = new Promise<number | null>((resolve) => p.child.on("exit", (code) => resolve(code)));
    return { ...p, code: p.match[1] as string, exit };
  }

  it("signs in once the person approves the code with their password on the verification page", async () => {
    const home = mkdtempSync(join(tmpdir(), "gh-device-"));
    const login = await startLogin(home);
    const page = await call(fx.gh.url, fx.ca, "GET", `/device?user_code=${login.code}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain("gatehouse-cli@");
    expect(page.headers["content-security-policy"]).toContain("frame-ancestors 'none'");
    expect(page.headers["x-frame-options"]).toBe("DENY");
    const wrong = await approve({
      user_code: login.code,
      username: "alice",
      password: "not it at all",
      action: "approve",
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toContain("invalid username or password");
    const ok = await approve({
      user_code: login.code.toLowerCase(),
      username: "alice",
      password: PW,
      action: "approve",
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toContain("Approved");
    expect(await login.exit).toBe(0);
    expect(login.stderr()).toContain("signed in to");
    const files = readdirSync(join(home, "cache")).filter((f) => f.endsWith(".json"));
    expect(files).toHaveLength(1);
    const cached = JSON.parse(readFileSync(join(home, "cache", files[0] as string), "utf8")) as Record<
      string,
      string
    >;
    expect(cached["user"]).toBe("alice");
    const sessions = await fx.call("GET", "/apis/gatehouse.io/v1alpha1/sessions", {
      bearer: cached["accessToken"] as string,
    });
    expect(sessions.status).toBe(200);
  });

  it("fails the login when the person denies the code", async () => {
    const home = mkdtempSync(join(tmpdir(), "gh-device-"));
    const login = await startLogin(home);
    const denied = await approve({ user_code: login.code, username: "alice", password: PW, action: "deny" });
    expect(denied.status).toBe(200);
    expect(denied.body).toContain("Denied");
    expect(await login.exit).toBe(2);
    expect(login.stderr()).toContain("denied");
  });

  it("limits how many device sign-ins one address may start", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++)
      statuses.push(
        (await fx.call("POST", "/apis/gatehouse.io/v1alpha1/device/authorize", { body: {} })).status,
      );
    expect(statuses).toContain(429);
    expect(statuses.filter((s) => s === 201).length).toBeLessThanOrEqual(10);
  });

  it("escapes what it shows and refuses codes it does not know", async () => {
    const page = await call(
      fx.gh.url,
      fx.ca,
      "GET",
      `/device?user_code=${encodeURIComponent('"><script>x</script>')}`,
    );
    expect(page.body).not.toContain("<script>x");
    expect(page.body).toContain("&lt;script&gt;");
    const r = await approve({ user_code: "BCDF-GHJK", username: "alice", password: PW, action: "approve" });
    expect(r.status).toBe(400);
    const json = await call(fx.gh.url, fx.ca, "POST", "/device", {
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(json.status).toBe(415);
  });
});
