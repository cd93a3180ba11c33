import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { resolveConfig } from "../../src/config/index.js";
import { startGatehouse, type Gatehouse } from "../../src/server/app.js";
import { call } from "../server/client.js";

describe("every sign-in success and failure is an audit event", () => {
  let gh: Gatehouse;
  let admin: [string, string];
  beforeAll(async () => {
    let pw = "";
    gh = await startGatehouse(
      resolveConfig([
        {
          name: "test",
          settings: { listen: "127.0.0.1:0", dataDir: mkdtempSync(join(tmpdir(), "gatehouse-login-audit-")) },
        },
      ]),
      { log: pino({ level: "silent" }), now: () => Date.now(), onAdminPassword: (p) => (pw = p) },
    );
    admin = ["admin", pw];
    const r = await call(gh.url, gh.caFile as string, "POST", "/apis/gatehouse.io/v1alpha1/users", {
      auth: admin,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        apiVersion: "gatehouse.io/v1alpha1",
        kind: "User",
        metadata: { name: "erin" },
        spec: { password: "erins-long-password" },
      }),
    });
    expect(r.status).toBe(201);
  });
  afterAll(async () => {
    await gh?.close();
  });

  it("records login.failed with the attempted user and login.succeeded with the session", async () => {
    const login = (password: string) =>
      call(gh.url, gh.caFile as string, "POST", "/apis/gatehouse.io/v1alpha1/login", {
        headers: { "content-type": "application/json", "user-agent": "audit-test" },
        body: JSON.stringify({ username: "erin", password }),
      });
    expect((await login("wrong-password")).status).toBe(401);
    const ok = await login("erins-long-password");
    expect(ok.status).toBe(201);
    await gh.audit.flush();
    const r = await call(
      gh.url,
      gh.caFile as string,
      "GET",
      "/apis/gatehouse.io/v1alpha1/auditevents?source=gatehouse",
      { auth: admin },
    );
    expect(r.status).toBe(200);
    const events = r.json<{
      items: { user: { username: string }; annotations?: Record<string, string>; userAgent?: string }[];
    }>().items;
    const logins = events.filter((e) =>
      (e.annotations?.["gatehouse.io/event-kind"] ?? "").startsWith("login."),
    );
    const kinds = logins.map((e) => e.annotations?.["gatehouse.io/event-kind"]);
    expect(kinds).toEqual(expect.arrayContaining(["login.failed", "login.succeeded"]));
    const failed = logins.find((e) => e.annotations?.["gatehouse.io/event-kind"] === "login.failed");
    expect(JSON.stringify(failed)).toContain("erin");
    expect(JSON.stringify(failed)).not.toContain("wrong-password");
    const succeeded = logins.find((e) => e.annotations?.["gatehouse.io/event-kind"] === "login.succeeded");
    expect(succeeded?.user.username).toBe("erin");
    expect(succeeded?.userAgent).toBe("audit-test");
  });
});
