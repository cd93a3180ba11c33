import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeJwt } from "jose";
import { startIdentityFixture, type IdentityFixture } from "../identity/fixture.js";
import { auditEvents } from "../identity-oidc/audit.js";
import { BASE_DN, startSlapd, type TestSlapd } from "../harness/slapd.js";
import { ldapProvider } from "./fixture.js";

const API = "/apis/gatehouse.io/v1alpha1";

describe("signing in through LDAP at POST /login", () => {
  let fx: IdentityFixture;
  let slapd: TestSlapd;
  beforeAll(async () => {
    [fx, slapd] = await Promise.all([startIdentityFixture(), startSlapd()]);
    await fx.admin("POST", `${API}/identityproviders`, ldapProvider(slapd, "corp"));
    await fx.admin(
      "POST",
      `${API}/identityproviders`,
      ldapProvider(slapd, "corp-starttls", { url: slapd.ldapUrl, startTLS: true }),
    );
    await fx.admin(
      "POST",
      `${API}/identityproviders`,
      ldapProvider(slapd, "corp-bad-bind", { bindPassword: "wrong" }),
    );
    await fx.admin(
      "POST",
      `${API}/identityproviders`,
      ldapProvider(slapd, "corp-wrong-ca", { caData: slapd.otherCaPem }),
    );
  });
  afterAll(async () => {
    await fx?.gh.close();
    await slapd?.destroy();
  });

  const login = (body: Record<string, unknown>) => fx.call("POST", `${API}/login`, { body });
  const refresh = (refreshToken: string) => fx.call("POST", `${API}/token`, { body: { refreshToken } });

  it("signs alice in over LDAPS: a session whose token carries her nested LDAP groups", async () => {
    const r = await login({ username: "alice", password: "alice-pw", provider: "corp" });
    expect(r.status).toBe(201);
    const t = r.json<{ accessToken: string; user: string }>();
    expect(t.user).toBe("alice");
    expect(decodeJwt(t.accessToken)["groups"]).toEqual([
      "ldap:developers",
      "ldap:engineering",
      "ldap:platform",
    ]);
    const user = await fx.admin("GET", `${API}/users/alice`);
    expect(user["status"]).toEqual({ hasPassword: false });
    const ok = await auditEvents(fx, "login.succeeded");
    expect(ok.some((e) => e.provider === "corp" && e.user === "alice")).toBe(true);
  });

  it("signs in over StartTLS", async () => {
    const r = await login({ username: "bob", password: "bob-pw", provider: "corp-starttls" });
    expect(r.status).toBe(201);
    expect(decodeJwt(r.json<{ accessToken: string }>().accessToken)["groups"]).toEqual(["ldap:admins"]);
  });

  it("answers a wrong password and an unknown user with the same 401", async () => {
    const wrong = await login({ username: "alice", password: "nope", provider: "corp" });
    const unknown = await login({ username: "zed", password: "alice-pw", provider: "corp" });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.json<{ message: string }>().message).toBe("invalid username or password");
    expect(unknown.json<{ message: string }>().message).toBe("invalid username or password");
  });

  it.each(["*", "*)(uid=*", "alice)(|(uid=*", "al*", "alice\0"])(
    "LDAP injection %j in the username signs in no one",
    async (username) => {
      const r = await login({ username, password: "alice-pw", provider: "corp" });
      expect(r.status).toBe(401);
    },
  );

  it("audits an injection attempt's username with control characters made visible", async () => {
    expect((await login({ username: "eve\0)(uid=*", password: "x", provider: "corp" })).status).toBe(401);
    await fx.gh.audit.flush();
    const r = await fx.admin("GET", `${API}/auditevents?source=gatehouse&limit=500`);
    const names = (r["items"] as { annotations?: Record<string, string> }[]).map(
      (e) => e.annotations?.["gatehouse.io/attempted-username"],
    );
    expect(names).toContain("eve\\x00)(uid=*");
  });

  it("throttles brute force per provider and user (any letter case), and audits it", async () => {
    // Spellings the directory matches as carol (case, spaces, full-width letters) share one count.
    const spellings = ["carol", "CAROL", " carol", "carol  ", "ｃａｒｏｌ"];
    for (const [i, username] of spellings.entries())
      expect((await login({ username, password: `guess-${i}`, provider: "corp" })).status).toBe(401);
    // Now even the right password is not checked.
    const r = await login({ username: "Carol", password: "carol-pw", provider: "corp" });
    expect(r.status).toBe(429);
    expect(r.headers["retry-after"]).toMatch(/^\d+$/);
    const failed = await auditEvents(fx, "login.failed");
    expect(
      failed.filter((e) => e.provider === "corp" && e.reason === "invalid username or password").length,
    ).toBeGreaterThanOrEqual(5);
    expect(failed.some((e) => e.provider === "corp" && e.reason === "throttled")).toBe(true);
    // The local user of the same name is a different count.
    expect((await login({ username: "carol", password: "x" })).status).toBe(401);
  });

  it("never signs in as a local user who has a password", async () => {
    await fx.user("dave-local", "dave-local-password");
    // A provider whose username attribute yields an existing local user's name.
    await fx.admin(
      "POST",
      `${API}/identityproviders`,
      ldapProvider(slapd, "corp-prefixed", {}, { usernamePrefix: "dave-" }),
    );
    await fx.user("dave-bob", "local-bobs-password");
    const r = await login({ username: "bob", password: "bob-pw", provider: "corp-prefixed" });
    expect(r.status).toBe(403);
    expect(r.json<{ message: string }>().message).toMatch(/dave-bob is a local user/);
    // The local user is untouched.
    expect((await login({ username: "dave-bob", password: "local-bobs-password" })).status).toBe(201);
  });

  it("refuses an unknown provider name", async () => {
    const r = await login({ username: "alice", password: "alice-pw", provider: "nope" });
    expect(r.status).toBe(400);
  });

  it("a wrong service bind password: sign-in is unavailable (503), and idp test explains it", async () => {
    const r = await login({ username: "alice", password: "alice-pw", provider: "corp-bad-bind" });
    expect(r.status).toBe(503);
    expect(r.json<{ message: string }>().message).toMatch(
      /cannot be reached.*gatehouse idp test corp-bad-bind/,
    );
    const t = await fx.admin("POST", `${API}/identityproviders/corp-bad-bind/test`);
    const status = t["status"] as { ok: boolean; checks: { step: string; ok: boolean; message: string }[] };
    expect(status.ok).toBe(false);
    expect(status.checks.find((c) => c.step === "service bind")?.message).toMatch(
      /refused bindDN .* check both/,
    );
  });

  it("a server certificate from another CA: refused, and idp test says what to set", async () => {
    const r = await login({ username: "alice", password: "alice-pw", provider: "corp-wrong-ca" });
    expect(r.status).toBe(503);
    const t = await fx.admin("POST", `${API}/identityproviders/corp-wrong-ca/test`);
    const status = t["status"] as { checks: { step: string; ok: boolean; message: string }[] };
    expect(status.checks[0]).toMatchObject({ step: "connect", ok: false });
    expect(status.checks[0]?.message).toMatch(/not trusted.*caData or caFile/);
  });

  it("the bind password is never served back", async () => {
    const obj = await fx.admin("GET", `${API}/identityproviders/corp`);
    expect(JSON.stringify(obj)).not.toContain(slapd.servicePassword);
  });

  it("slapd stopped: sign-in fails with a clear 503 within the timeout; an existing session still refreshes", async () => {
    const s = await login({ username: "alice", password: "alice-pw", provider: "corp" });
    expect(s.status).toBe(201);
    await slapd.stop();
    try {
      const r = await login({ username: "alice", password: "alice-pw", provider: "corp" });
      expect(r.status).toBe(503);
      expect(r.json<{ message: string }>().message).toMatch(/"corp" cannot be reached: try again later/);
      const again = await refresh(s.json<{ refreshToken: string }>().refreshToken);
      expect(again.status).toBe(201);
      const failed = await auditEvents(fx, "login.failed");
      expect(failed.some((e) => e.provider === "corp" && e.reason === "provider unavailable")).toBe(true);
    } finally {
      await slapd.start();
    }
  });

  it("slapd hung: sign-in fails with the same clear 503 after the timeout; an existing session still refreshes", async () => {
    const s = await login({ username: "alice", password: "alice-pw", provider: "corp" });
    expect(s.status).toBe(201);
    slapd.pause();
    try {
      const r = await login({ username: "alice", password: "alice-pw", provider: "corp" });
      expect(r.status).toBe(503);
      expect(r.json<{ message: string }>().message).toMatch(/"corp" cannot be reached: try again later/);
      expect((await refresh(s.json<{ refreshToken: string }>().refreshToken)).status).toBe(201);
    } finally {
      slapd.resume();
    }
  }, 30_000);

  it("a user deleted in LDAP: the next refresh is refused; group changes show at refresh", async () => {
    const { Change, Attribute } = await import("ldapts");
    const frank = `uid=frank,ou=people,${BASE_DN}`;
    await slapd.asRoot(async (c) => {
      await c.add(frank, {
        objectClass: ["inetOrgPerson"],
        uid: "frank",
        cn: "Frank",
        sn: "F",
        userPassword: "frank-pw",
      });
      await c.modify(
        `cn=admins,ou=groups,${BASE_DN}`,
        new Change({ operation: "add", modification: new Attribute({ type: "member", values: [frank] }) }),
      );
    });
    const s = await login({ username: "frank", password: "frank-pw", provider: "corp" });
    expect(s.status).toBe(201);
    expect(decodeJwt(s.json<{ accessToken: string }>().accessToken)["groups"]).toEqual(["ldap:admins"]);
    await slapd.asRoot((c) =>
      c.modify(
        `cn=developers,ou=groups,${BASE_DN}`,
        new Change({ operation: "add", modification: new Attribute({ type: "member", values: [frank] }) }),
      ),
    );
    const r1 = await refresh(s.json<{ refreshToken: string }>().refreshToken);
    expect(r1.status).toBe(201);
    expect(decodeJwt(r1.json<{ accessToken: string }>().accessToken)["groups"]).toEqual([
      "ldap:admins",
      "ldap:developers",
      "ldap:engineering",
      "ldap:platform",
    ]);
    await slapd.asRoot((c) => c.del(frank));
    const r2 = await refresh(r1.json<{ refreshToken: string }>().refreshToken);
    expect(r2.status).toBe(401);
    // The session the directory ended is in the audit log, with the provider's reason.
    await fx.gh.audit.flush();
    const sessionId = s.json<{ sessionId: string }>().sessionId;
    const ended = await fx.gh.store.audit.query(
      { source: "gatehouse", resource: "tokens", name: sessionId, verb: "delete" },
      { limit: 10 },
    );
    expect(ended.items.map((i) => i.event.annotations)).toMatchObject([
      {
        "gatehouse.io/event-kind": "token.revoked",
        "gatehouse.io/subject": "frank",
        "gatehouse.io/revoke-reason": expect.stringMatching(/^identity provider: /),
      },
    ]);
  });
});
