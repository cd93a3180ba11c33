import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startIdentityFixture, type IdentityFixture } from "../identity/fixture.js";
import { auditEvents } from "../identity-oidc/audit.js";
import { call } from "../server/client.js";
import { base32Decode, hotp, totpStep, TOTP_KIND } from "../../src/identity/totp.js";

const API = "/apis/gatehouse.io/v1alpha1";

describe("TOTP second factor for local users", () => {
  let fx: IdentityFixture;
  const secrets = new Map<string, Buffer>();
  beforeAll(async () => {
    fx = await startIdentityFixture();
    for (const u of ["erin", "frida", "gus", "hal"]) await fx.user(u, `${u}-long-password`);
  });
  afterAll(async () => {
    await fx?.gh.close();
  });

  const login = (body: Record<string, unknown>) => fx.call("POST", `${API}/login`, { body });
  const basic = (who: string, method: string, path: string) =>
    call(fx.gh.url, fx.ca, method, path, { auth: [who, `${who}-long-password`] });
  const code = (user: string, offset = 0): string =>
    hotp(secrets.get(user) as Buffer, totpStep(Date.now()) + offset);
  async function enroll(user: string): Promise<Record<string, unknown>> {
    const r = await fx.admin("POST", `${API}/users/${user}/totp`);
    secrets.set(user, base32Decode(r["secret"] as string) as Buffer);
    return r;
  }

  it("enrolment shows the secret and otpauth:// URI once and stores only the sealed secret", async () => {
    const r = await enroll("erin");
    expect(r["kind"]).toBe("TOTPEnrollment");
    expect(r["secret"]).toMatch(/^[A-Z2-7]{32}$/);
    expect(r["uri"]).toBe(
      `otpauth://totp/Gatehouse%3Aerin?secret=${String(r["secret"])}&issuer=Gatehouse&algorithm=SHA1&digits=6&period=30`,
    );
    const stored = await fx.gh.store.objects.get({ kind: TOTP_KIND, namespace: "", name: "erin" });
    expect(stored).toBeDefined();
    expect(JSON.stringify(stored?.body)).not.toContain(String(r["secret"]));
    // A second enrolment is refused until the first is disabled.
    const again = await fx.call("POST", `${API}/users/erin/totp`);
    expect(again.status).toBe(401); // no credentials at all
    await expect(fx.admin("POST", `${API}/users/erin/totp`)).rejects.toThrow(/409.*disable it first/);
  });

  it("the password alone is not enough: 401 with cause TOTPRequired", async () => {
    const r = await login({ username: "erin", password: "erin-long-password" });
    expect(r.status).toBe(401);
    const status = r.json<{ details?: { causes?: { reason: string }[] } }>();
    expect(status.details?.causes?.[0]?.reason).toBe("TOTPRequired");
  });

  it("signs in with the password and the current code, once: the same code again is refused", async () => {
    const c = code("erin");
    const ok = await login({ username: "erin", password: "erin-long-password", totp: c });
    expect(ok.status).toBe(201);
    const replay = await login({ username: "erin", password: "erin-long-password", totp: c });
    expect(replay.status).toBe(401);
    expect(replay.json<{ message: string }>().message).toBe("invalid one-time code");
    const failed = await auditEvents(fx, "login.failed");
    expect(failed.some((e) => e.provider === "local" && e.reason === "wrong or reused one-time code")).toBe(
      true,
    );
  });

  it("a wrong password with a right code is still a wrong password", async () => {
    await enroll("hal");
    const r = await login({ username: "hal", password: "wrong-password", totp: code("hal") });
    expect(r.status).toBe(401);
    expect(r.json<{ message: string }>().message).toBe("invalid username or password");
  });

  it("wrong codes count towards the same brute-force throttle as wrong passwords", async () => {
    await enroll("gus");
    const good = code("gus");
    const wrong = good === "000000" ? "111111" : "000000";
    for (let i = 0; i < 5; i++)
      expect((await login({ username: "gus", password: "gus-long-password", totp: wrong })).status).toBe(401);
    const r = await login({ username: "gus", password: "gus-long-password", totp: good });
    expect(r.status).toBe(429);
    const failed = await auditEvents(fx, "login.failed");
    expect(failed.filter((e) => e.reason === "wrong or reused one-time code").length).toBeGreaterThanOrEqual(
      5,
    );
    expect(failed.some((e) => e.reason === "throttled")).toBe(true);
  });

  it("users enrol themselves but not others; once enrolled, HTTP Basic no longer works for them", async () => {
    expect((await basic("frida", "POST", `${API}/users/erin/totp`)).status).toBe(403);
    const self = await basic("frida", "POST", `${API}/users/frida/totp`);
    expect(self.status).toBe(201);
    secrets.set("frida", base32Decode(self.json<{ secret: string }>().secret) as Buffer);
    // Basic has no place for a one-time code: it would bypass the second factor.
    expect((await basic("frida", "GET", `${API}/sessions`)).status).toBe(401);
    const r = await login({ username: "frida", password: "frida-long-password", totp: code("frida") });
    expect(r.status).toBe(201);
    const token = r.json<{ accessToken: string }>().accessToken;
    // With her session she may turn it off again.
    const off = await fx.call("DELETE", `${API}/users/frida/totp`, { bearer: token });
    expect(off.status).toBe(200);
    expect((await login({ username: "frida", password: "frida-long-password" })).status).toBe(201);
  });

  it("an administrator disables a user's TOTP", async () => {
    await fx.admin("DELETE", `${API}/users/erin/totp`);
    expect((await login({ username: "erin", password: "erin-long-password" })).status).toBe(201);
    await expect(fx.admin("DELETE", `${API}/users/erin/totp`)).rejects.toThrow(/404/);
  });

  it("the device-code approval page asks for the one-time code too, and refuses the password alone", async () => {
    const started = await fx.call("POST", `${API}/device/authorize`, { body: { client: "ci@host" } });
    expect(started.status).toBe(201);
    const userCode = started.json<{ user_code: string }>().user_code;
    const page = await call(fx.gh.url, fx.ca, "GET", `/device?user_code=${userCode}`);
    expect(page.body).toContain('name="totp"');
    const approve = (form: Record<string, string>) =>
      call(fx.gh.url, fx.ca, "POST", "/device", {
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ user_code: userCode, action: "approve", ...form }).toString(),
      });
    const without = await approve({ username: "hal", password: "hal-long-password" });
    expect(without.status).toBe(401);
    expect(without.body).not.toContain("Approved");
    const ok = await approve({ username: "hal", password: "hal-long-password", totp: code("hal") });
    expect(ok.status).toBe(200);
    expect(ok.body).toContain("Approved: ci@host");
  });

  it("is for local users only", async () => {
    await fx.admin("POST", `${API}/users`, {
      apiVersion: "gatehouse.io/v1alpha1",
      kind: "User",
      metadata: { name: "nopass" },
      spec: { groups: [] },
    });
    await expect(fx.admin("POST", `${API}/users/nopass/totp`)).rejects.toThrow(/400.*identity provider/);
    await expect(fx.admin("POST", `${API}/users/ghost/totp`)).rejects.toThrow(/404/);
  });
});
