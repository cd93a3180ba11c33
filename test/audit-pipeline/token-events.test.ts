import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Event } from "../../src/core/audit/index.js";
import { startIdentityFixture, type IdentityFixture } from "../identity/fixture.js";
import { call } from "../server/client.js";

const API = "/apis/gatehouse.io/v1alpha1";

/**
 * Tokens issued and revoked are Gatehouse events (docs/audit.md): every refresh issues an access
 * token (`token.issued`), and every way a session ends before its time (logout, an administrator,
 * the user disabled, refresh-token reuse) is a `token.revoked` naming the session and the reason.
 */
describe("token issue and revocation in the audit log", () => {
  let fx: IdentityFixture;

  const login = async (user: string, password: string): Promise<Record<string, string>> => {
    const r = await fx.call("POST", `${API}/login`, { body: { username: user, password } });
    expect(r.status).toBe(201);
    return r.json<Record<string, string>>();
  };
  const refresh = (refreshToken: string) => fx.call("POST", `${API}/token`, { body: { refreshToken } });
  /** The stored gatehouse events of a kind about a session (name = session id). */
  const events = async (kind: string, session: string): Promise<Event[]> => {
    await fx.gh.audit.flush();
    const page = await fx.gh.store.audit.query(
      { source: "gatehouse", resource: "tokens", name: session },
      { limit: 100 },
    );
    return page.items.map((i) => i.event).filter((e) => e.annotations?.["gatehouse.io/event-kind"] === kind);
  };

  beforeAll(async () => {
    fx = await startIdentityFixture();
    await fx.user("tina", "tina-long-password");
    await fx.user("tom", "tom-long-password");
    await fx.user("uma", "uma-long-password");
  });
  afterAll(async () => {
    await fx?.gh.close();
  });

  it("records token.issued with the subject and expiry at each refresh, and token.revoked at logout", async () => {
    const s = await login("tina", "tina-long-password");
    const r = await refresh(s["refreshToken"] as string);
    expect(r.status).toBe(201);
    const next = r.json<Record<string, string>>();
    const issued = await events("token.issued", s["sessionId"] as string);
    expect(issued).toHaveLength(1);
    expect(issued[0]).toMatchObject({
      verb: "create",
      user: { username: "tina" },
      objectRef: { resource: "tokens", name: s["sessionId"], apiGroup: "gatehouse.io" },
      responseStatus: { code: 201 },
      annotations: {
        "gatehouse.io/subject": "tina",
        "gatehouse.io/expires-at": next["accessTokenExpiresAt"],
        "gatehouse.io/impact": "privileged",
      },
    });
    expect(JSON.stringify(issued[0])).not.toContain(next["accessToken"] as string);
    expect(JSON.stringify(issued[0])).not.toContain(next["refreshToken"] as string);

    const out = await fx.call("POST", `${API}/logout`, { body: { refreshToken: next["refreshToken"] } });
    expect(out.status).toBe(200);
    const revoked = await events("token.revoked", s["sessionId"] as string);
    expect(revoked).toHaveLength(1);
    expect(revoked[0]).toMatchObject({
      verb: "delete",
      user: { username: "tina" },
      annotations: { "gatehouse.io/subject": "tina", "gatehouse.io/revoke-reason": "logout" },
    });
    // Logging out twice ends nothing more and records nothing more.
    await fx.call("POST", `${API}/logout`, { body: { refreshToken: next["refreshToken"] } });
    expect(await events("token.revoked", s["sessionId"] as string)).toHaveLength(1);
  });

  it("records the revocation of a session whose refresh token was replayed, with an anonymous actor", async () => {
    const s = await login("tom", "tom-long-password");
    expect((await refresh(s["refreshToken"] as string)).status).toBe(201);
    const replay = await refresh(s["refreshToken"] as string);
    expect(replay.status).toBe(401);
    const revoked = await events("token.revoked", s["sessionId"] as string);
    expect(revoked).toHaveLength(1);
    expect(revoked[0]).toMatchObject({
      user: { username: "system:anonymous" },
      annotations: { "gatehouse.io/subject": "tom", "gatehouse.io/revoke-reason": "refresh token reused" },
    });
    // A refresh that is merely refused (the session already ended) revokes nothing new.
    expect((await refresh(s["refreshToken"] as string)).status).toBe(401);
    expect(await events("token.revoked", s["sessionId"] as string)).toHaveLength(1);
  });

  it("records one token.revoked per session ended by an administrator or by disabling the user", async () => {
    const a = await login("uma", "uma-long-password");
    const b = await login("uma", "uma-long-password");
    await fx.admin("DELETE", `${API}/sessions/${a["sessionId"]}`);
    const byAdmin = await events("token.revoked", a["sessionId"] as string);
    expect(byAdmin).toHaveLength(1);
    expect(byAdmin[0]).toMatchObject({
      user: { username: "admin" },
      annotations: { "gatehouse.io/subject": "uma", "gatehouse.io/revoke-reason": "revoked by admin" },
    });

    const c = await login("uma", "uma-long-password");
    await fx.admin("PATCH", `${API}/users/uma`, { spec: { disabled: true } });
    for (const s of [b, c]) {
      const ended = await events("token.revoked", s["sessionId"] as string);
      expect(ended).toHaveLength(1);
      expect(ended[0]).toMatchObject({
        user: { username: "admin" },
        annotations: { "gatehouse.io/subject": "uma", "gatehouse.io/revoke-reason": "user disabled" },
      });
    }
    // The session the administrator had already ended is not ended (nor recorded) twice.
    expect(await events("token.revoked", a["sessionId"] as string)).toHaveLength(1);
  });

  it("records a device-code sign-in as login.succeeded", async () => {
    await fx.user("dora", "dora-long-password");
    const started = await fx.call("POST", `${API}/device/authorize`, { body: { client: "ci@host" } });
    expect(started.status).toBe(201);
    const { user_code, device_code } = started.json<{ user_code: string; device_code: string }>();
    const ok = await call(fx.gh.url, fx.ca, "POST", "/device", {
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        user_code,
        action: "approve",
        username: "dora",
        password: "dora-long-password",
      }).toString(),
    });
    expect(ok.status).toBe(200);
    const polled = await fx.call("POST", `${API}/token`, {
      body: { grant_type: "urn:ietf:params:oauth:grant-type:device_code", device_code },
    });
    expect(polled.status).toBe(201);
    const session = polled.json<{ sessionId: string }>().sessionId;
    await fx.gh.audit.flush();
    const page = await fx.gh.store.audit.query(
      { source: "gatehouse", resource: "sessions", name: session },
      { limit: 10 },
    );
    expect(page.items.map((i) => i.event)).toMatchObject([
      {
        user: { username: "dora" },
        annotations: { "gatehouse.io/event-kind": "login.succeeded", "gatehouse.io/login-provider": "local" },
      },
    ]);
  });
});
