import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { resolveConfig } from "../../src/config/index.js";
import { startGatehouse, type Gatehouse } from "../../src/server/app.js";
import { freshPostgresDatabase } from "../harness/databases.js";
import { call } from "./client.js";

const dialects = [
  { name: "sqlite", database: undefined as string | undefined },
  { name: "postgres", database: await freshPostgresDatabase() },
];

describe.each(dialects)("the Gatehouse server on $name", ({ database }) => {
  let gh: Gatehouse;
  let password = "";
  let ca = "";
  let passwordsShown = 0;
  const dataDir = mkdtempSync(join(tmpdir(), "gatehouse-server-"));
  const config = resolveConfig([
    {
      name: "test",
      settings: {
        listen: "127.0.0.1:0",
        dataDir,
        ...(database ? { database } : {}),
        maxRequestBodyBytes: 4096,
      },
    },
  ]);
  const start = (): Promise<Gatehouse> =>
    startGatehouse(config, {
      log: pino({ level: "silent" }),
      now: () => Date.now(),
      onAdminPassword: (pw) => {
        password = pw;
        passwordsShown++;
      },
    });

  beforeAll(async () => {
    gh = await start();
    ca = gh.caFile as string;
  });
  afterAll(async () => {
    await gh.close();
  });

  it("answers the probes without credentials", async () => {
    for (const p of ["/healthz", "/livez", "/readyz"]) {
      const r = await call(gh.url, ca, "GET", p);
      expect(r.status).toBe(200);
      expect(r.body).toBe("ok");
    }
  });

  it("creates the admin on first start and shows its password exactly once, even after a restart", async () => {
    expect(passwordsShown).toBe(1);
    expect(password.length).toBeGreaterThanOrEqual(20);
    await gh.close();
    gh = await start();
    expect(passwordsShown).toBe(1);
  });

  it("refuses anonymous callers with a 401 Status before routing, even for paths that do not exist", async () => {
    for (const p of ["/apis", "/apis/gatehouse.io/v1alpha1/users", "/no/such/path", "/metrics"]) {
      const r = await call(gh.url, ca, "GET", p);
      expect(r.status).toBe(401);
      expect(r.json()).toEqual({
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message: "Unauthorized",
        reason: "Unauthorized",
        code: 401,
      });
    }
  });

  it("refuses a wrong password, a malformed Basic header and an unknown user alike", async () => {
    expect((await call(gh.url, ca, "GET", "/apis", { auth: ["admin", "wrong"] })).status).toBe(401);
    expect((await call(gh.url, ca, "GET", "/apis", { auth: ["ghost", password] })).status).toBe(401);
    expect((await call(gh.url, ca, "GET", "/apis", { headers: { authorization: "Basic !!!" } })).status).toBe(
      401,
    );
    expect(
      (await call(gh.url, ca, "GET", "/apis", { headers: { authorization: "Bearer nope" } })).status,
    ).toBe(401);
  });

  it("serves discovery documents kubectl-style tools can read", async () => {
    const groups = (await call(gh.url, ca, "GET", "/apis", { auth: ["admin", password] })).json();
    expect(groups["kind"]).toBe("APIGroupList");
    const list = (
      await call(gh.url, ca, "GET", "/apis/gatehouse.io/v1alpha1", { auth: ["admin", password] })
    ).json<{
      kind: string;
      groupVersion: string;
      resources: { name: string; kind: string }[];
    }>();
    expect(list.kind).toBe("APIResourceList");
    expect(list.groupVersion).toBe("gatehouse.io/v1alpha1");
    expect(list.resources.map((r) => r.name)).toContain("users");
  });

  it("creates users, pages through them with continue tokens, and never returns password hashes", async () => {
    for (const n of ["user-a", "user-b", "user-c"]) {
      const r = await call(gh.url, ca, "POST", "/apis/gatehouse.io/v1alpha1/users", {
        auth: ["admin", password],
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          apiVersion: "gatehouse.io/v1alpha1",
          kind: "User",
          metadata: { name: n },
          spec: { password: "a-long-password-1", groups: ["dev"] },
        }),
      });
      expect(r.status).toBe(201);
      expect(r.body).not.toContain("argon2");
    }
    const names: string[] = [];
    let cont = "";
    do {
      const r = await call(
        gh.url,
        ca,
        "GET",
        `/apis/gatehouse.io/v1alpha1/users?limit=2${cont ? `&continue=${encodeURIComponent(cont)}` : ""}`,
        {
          auth: ["admin", password],
        },
      );
      expect(r.status).toBe(200);
      expect(r.body).not.toContain("argon2");
      const list = r.json<{ items: { metadata: { name: string } }[]; metadata: { continue?: string } }>();
      names.push(...list.items.map((i) => i.metadata.name));
      cont = list.metadata.continue ?? "";
    } while (cont !== "");
    expect(names).toEqual(["admin", "user-a", "user-b", "user-c"]);
  });

  it("forbids a signed-in user who is not an administrator with kube-apiserver's 403 text", async () => {
    const r = await call(gh.url, ca, "GET", "/apis/gatehouse.io/v1alpha1/users", {
      auth: ["user-a", "a-long-password-1"],
    });
    expect(r.status).toBe(403);
    expect(r.json()["message"]).toBe(
      'users.gatehouse.io is forbidden: User "user-a" cannot list resource "users" in API group "gatehouse.io" at the cluster scope',
    );
  });

  it("answers a missing user with a 404 Status and a duplicate with 409 AlreadyExists", async () => {
    const missing = await call(gh.url, ca, "GET", "/apis/gatehouse.io/v1alpha1/users/nobody", {
      auth: ["admin", password],
    });
    expect(missing.status).toBe(404);
    expect(missing.json()["reason"]).toBe("NotFound");
    const dup = await call(gh.url, ca, "POST", "/apis/gatehouse.io/v1alpha1/users", {
      auth: ["admin", password],
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        apiVersion: "gatehouse.io/v1alpha1",
        kind: "User",
        metadata: { name: "user-a" },
      }),
    });
    expect(dup.status).toBe(409);
    expect(dup.json()["reason"]).toBe("AlreadyExists");
  });

  it("rejects malformed, invalid and oversized bodies and changes nothing", async () => {
    const post = (body: string, type = "application/json") =>
      call(gh.url, ca, "POST", "/apis/gatehouse.io/v1alpha1/users", {
        auth: ["admin", password],
        headers: { "content-type": type },
        body,
      });
    expect((await post("{not json")).json()["reason"]).toBe("BadRequest");
    const invalid = await post(
      JSON.stringify({
        apiVersion: "v1",
        kind: "User",
        metadata: { name: "Bad/Name" },
        spec: { password: "short" },
      }),
    );
    expect(invalid.status).toBe(422);
    expect(invalid.json()["message"]).toContain("metadata.name");
    expect(invalid.json()["message"]).toContain("spec.password");
    expect((await post("{}", "text/yaml")).status).toBe(415);
    const big = await post(
      JSON.stringify({
        apiVersion: "gatehouse.io/v1alpha1",
        kind: "User",
        metadata: { name: "big" },
        spec: { groups: ["x".repeat(10_000)] },
      }),
    );
    expect(big.status).toBe(413);
    expect(
      (await call(gh.url, ca, "GET", "/apis/gatehouse.io/v1alpha1/users/big", { auth: ["admin", password] }))
        .status,
    ).toBe(404);
  });

  it("does not let path tricks reach a route by another spelling", async () => {
    for (const p of [
      "/apis/gatehouse.io/v1alpha1/users/..%2fadmin",
      "/apis/gatehouse.io/v1alpha1/x/../users/admin",
      "/apis/gatehouse.io/v1alpha1/users/%2e%2e",
    ]) {
      const r = await call(gh.url, ca, "GET", p, { auth: ["admin", password] });
      expect(r.status).toBe(404);
    }
  });

  it("exports Prometheus metrics to authenticated callers", async () => {
    await call(gh.url, ca, "GET", "/healthz");
    const r = await call(gh.url, ca, "GET", "/metrics", { auth: ["admin", password] });
    expect(r.status).toBe(200);
    expect(r.body).toMatch(/gatehouse_http_requests_total\{method="GET",route="\/healthz",code="200"\} \d+/);
  });
});
