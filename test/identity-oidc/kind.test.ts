import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config/index.js";
import { startGatehouse, StartupError } from "../../src/server/app.js";
import { KeyRing } from "../../src/secrets/index.js";
import {
  identityProviderSealedKind,
  providerFactories,
  secretAad,
  UpstreamSessions,
  type ProviderRegistry,
} from "../../src/identity/providers/index.js";
import { startIdentityFixture, type IdentityFixture } from "../identity/fixture.js";

const API = "/apis/gatehouse.io/v1alpha1";
const SECRET = "the-client-secret-9f8e7d";

const idp = (name: string, oidc: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  apiVersion: "gatehouse.io/v1alpha1",
  kind: "IdentityProvider",
  metadata: { name },
  spec: { type: "oidc", ...extra, oidc: { issuer: "https://127.0.0.1:1", clientId: "gatehouse", ...oidc } },
});

describe("the IdentityProvider kind: admin-only, secrets sealed at rest and never served back", () => {
  let fx: IdentityFixture;
  beforeAll(async () => {
    fx = await startIdentityFixture();
    await fx.user("dave", "daves-long-password");
  });
  afterAll(async () => {
    await fx?.gh.close();
  });
  const stored = async (name: string) =>
    (await fx.gh.store.objects.get({ kind: "IdentityProvider", namespace: "", name }))?.body as {
      spec: { oidc: Record<string, unknown> };
    };

  it("seals the client secret (bound to object and field) and serves it as {sealed: true}", async () => {
    const created = await fx.admin("POST", `${API}/identityproviders`, idp("corp", { clientSecret: SECRET }));
    expect((created["spec"] as { oidc: Record<string, unknown> }).oidc["clientSecret"]).toEqual({
      sealed: true,
    });
    const got = await fx.admin("GET", `${API}/identityproviders/corp`);
    expect(JSON.stringify(got)).not.toContain(SECRET);
    const list = await fx.admin("GET", `${API}/identityproviders`);
    expect(JSON.stringify(list)).not.toContain(SECRET);
    const raw = await stored("corp");
    expect(JSON.stringify(raw)).not.toContain(SECRET);
    expect(raw.spec.oidc["clientSecret"]).toEqual({ ciphertext: expect.any(String) });
  });

  it('keeps the stored secret when an update omits it or sends back {sealed: true}, and removes it when set to ""', async () => {
    const before = (await stored("corp")).spec.oidc["clientSecret"];
    await fx.admin("PUT", `${API}/identityproviders/corp`, idp("corp", {}, { displayName: "Corp" }));
    expect((await stored("corp")).spec.oidc["clientSecret"]).toEqual(before);
    await fx.admin("PUT", `${API}/identityproviders/corp`, idp("corp", { clientSecret: { sealed: true } }));
    expect((await stored("corp")).spec.oidc["clientSecret"]).toEqual(before);
    await fx.admin("PUT", `${API}/identityproviders/corp`, idp("corp", { clientSecret: "" }));
    expect((await stored("corp")).spec.oidc["clientSecret"]).toBeUndefined();
    await fx.admin("PUT", `${API}/identityproviders/corp`, idp("corp", { clientSecret: SECRET }));
  });

  it("a sealed secret copied into another provider does not open there", async () => {
    const ciphertext = ((await stored("corp")).spec.oidc["clientSecret"] as { ciphertext: string })
      .ciphertext;
    await fx.gh.store.objects.create(
      { kind: "IdentityProvider", namespace: "", name: "copycat" },
      "uid-copycat",
      idp("copycat", { clientSecret: { ciphertext } }),
      Date.now(),
    );
    const r = await fx.admin("POST", `${API}/identityproviders/copycat/test`);
    const status = r["status"] as { ok: boolean; checks: { step: string; message: string }[] };
    expect(status.ok).toBe(false);
    expect(status.checks[0]?.message).toContain("secrets cannot be opened");
  });

  it("refuses invalid objects with every problem listed, in Kubernetes' Invalid status", async () => {
    const r = await fx.call("POST", `${API}/identityproviders`, {
      body: idp("bad", { issuer: "http://plain.example", clientId: "" }, { timeoutSeconds: 0 }),
    });
    expect(r.status).toBe(401);
    const admin = await fx.gh.store.users.get("admin");
    expect(admin).toBeDefined();
    let err = "";
    await fx
      .admin(
        "POST",
        `${API}/identityproviders`,
        idp("bad", { issuer: "http://plain.example", clientId: "" }, { timeoutSeconds: 0 }),
      )
      .catch((e: Error) => (err = e.message));
    expect(err).toContain("422");
    expect(err).toContain("spec.timeoutSeconds: must be a whole number of seconds from 1 to 120");
    expect(err).toContain("spec.oidc.issuer: must be an https:// URL");
    expect(err).toContain("spec.oidc.clientId: must be a non-empty string");
  });

  it("lets only administrators read or write identity providers", async () => {
    const login = await fx.call("POST", `${API}/login`, {
      body: { username: "dave", password: "daves-long-password" },
    });
    const bearer = login.json<{ accessToken: string }>().accessToken;
    expect((await fx.call("GET", `${API}/identityproviders`, { bearer })).status).toBe(403);
    expect((await fx.call("GET", `${API}/identityproviders/corp`, { bearer })).status).toBe(403);
    expect(
      (await fx.call("POST", `${API}/identityproviders`, { bearer, body: idp("mine", {}) })).status,
    ).toBe(403);
    expect((await fx.call("DELETE", `${API}/identityproviders/corp`, { bearer })).status).toBe(403);
    expect((await fx.call("POST", `${API}/identityproviders/corp/test`, { bearer, body: {} })).status).toBe(
      403,
    );
  });

  it("reports an unreachable issuer through the test endpoint, with what to check", async () => {
    const r = await fx.admin("POST", `${API}/identityproviders/corp/test`);
    const status = r["status"] as { ok: boolean; checks: { step: string; ok: boolean; message: string }[] };
    expect(status.ok).toBe(false);
    expect(status.checks).toEqual([
      { step: "discovery", ok: false, message: expect.stringContaining("https://127.0.0.1:1") },
    ]);
  });

  it("lists providers on the sign-in page as buttons only while enabled", async () => {
    const q = new URLSearchParams({
      client_id: "gatehouse-cli",
      response_type: "code",
      redirect_uri: "http://127.0.0.1:9/cb",
      code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
      code_challenge_method: "S256",
      state: "a-state-of-sixteen-chars",
    });
    const page = await fx.call("GET", `/authorize?${q.toString()}`);
    expect(page.body).toContain(`href="/idp/corp/start?`);
    expect(page.body).toMatch(/Sign in with corp/i);
    await fx.admin(
      "PUT",
      `${API}/identityproviders/corp`,
      idp("corp", {}, { displayName: "Corp", disabled: true }),
    );
    const after = await fx.call("GET", `/authorize?${q.toString()}`);
    expect(after.body).not.toContain("/idp/corp/start");
    expect((await fx.call("GET", `/idp/corp/start?${q.toString()}`)).status).toBe(404);
  });
});

describe("secrets reencrypt reseals IdentityProvider secrets under the new primary key", () => {
  it("rewrites a secret sealed with an old key so it opens with the same associated data", () => {
    const oldKey = { id: "old", key: Buffer.alloc(32, 1) };
    const newKey = { id: "new", key: Buffer.alloc(32, 2) };
    const before = KeyRing.create([oldKey]);
    const body = {
      spec: {
        type: "oidc",
        oidc: {
          issuer: "https://x",
          clientId: "c",
          clientSecret: { ciphertext: before.seal("s3", secretAad("p", "oidc", "clientSecret")) },
        },
      },
    };
    const ring = KeyRing.create([newKey, oldKey]);
    const kind = identityProviderSealedKind(providerFactories());
    const out = kind.reseal(body, "p", ring) as typeof body;
    const c = out.spec.oidc.clientSecret.ciphertext;
    expect(ring.isCurrent(c)).toBe(true);
    expect(ring.open(c, secretAad("p", "oidc", "clientSecret"))).toBe("s3");
    expect(kind.reseal(out, "p", ring)).toBeUndefined();
  });
});

describe("identity providers from the configuration (identityProvidersFile)", () => {
  const start = (file: string, dir: string) =>
    startGatehouse(
      resolveConfig([
        { name: "test", settings: { listen: "127.0.0.1:0", dataDir: dir, identityProvidersFile: file } },
      ]),
      { log: pino({ level: "silent" }), now: () => Date.now(), onAdminPassword: () => undefined },
    );

  it("applies a folder of YAML at start, seals its secrets, and leaves unchanged objects alone on restart", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gatehouse-idpfile-"));
    const folder = mkdtempSync(join(tmpdir(), "gatehouse-idps-"));
    writeFileSync(
      join(folder, "corp.yaml"),
      [
        "apiVersion: gatehouse.io/v1alpha1",
        "kind: IdentityProvider",
        "metadata: {name: corp}",
        "spec:",
        "  type: oidc",
        "  oidc: {issuer: 'https://127.0.0.1:1', clientId: gatehouse, clientSecret: from-the-file-123}",
        "---",
        "apiVersion: gatehouse.io/v1alpha1",
        "kind: IdentityProvider",
        "metadata: {name: gh}",
        "spec:",
        "  type: github",
        "  github: {clientId: abc, clientSecret: gh-secret-456, allowedOrganizations: [acme]}",
        "",
      ].join("\n"),
    );
    const gh = await start(folder, dir);
    const corp = await gh.store.objects.get({ kind: "IdentityProvider", namespace: "", name: "corp" });
    const ghp = await gh.store.objects.get({ kind: "IdentityProvider", namespace: "", name: "gh" });
    expect(JSON.stringify([corp?.body, ghp?.body])).not.toMatch(/from-the-file-123|gh-secret-456/);
    await gh.close();
    const again = await start(folder, dir);
    const after = await again.store.objects.get({ kind: "IdentityProvider", namespace: "", name: "corp" });
    expect(after?.resourceVersion).toBe(corp?.resourceVersion);
    await again.close();
  });

  it("refuses to start on an invalid provider file, naming the problem", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gatehouse-idpfile-"));
    const file = join(dir, "idps.yaml");
    writeFileSync(
      file,
      "apiVersion: gatehouse.io/v1alpha1\nkind: IdentityProvider\nmetadata: {name: corp}\nspec: {type: oidc, oidc: {clientId: x}}\n",
    );
    const err = await start(file, dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StartupError);
    expect((err as Error).message).toContain("spec.oidc.issuer: required");
  });
});

describe("misconfiguration at start and session-link clean-up", () => {
  it("logs a provider whose issuer cannot be reached when the server starts, pointing at idp test", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gatehouse-idplog-"));
    const file = join(dir, "idps.yaml");
    writeFileSync(
      file,
      "apiVersion: gatehouse.io/v1alpha1\nkind: IdentityProvider\nmetadata: {name: corp}\nspec: {type: oidc, timeoutSeconds: 1, oidc: {issuer: 'https://127.0.0.1:1', clientId: x}}\n",
    );
    const lines: string[] = [];
    const gh = await startGatehouse(
      resolveConfig([
        { name: "test", settings: { listen: "127.0.0.1:0", dataDir: dir, identityProvidersFile: file } },
      ]),
      {
        log: pino({ level: "warn" }, { write: (s: string) => void lines.push(s) }),
        now: () => Date.now(),
        onAdminPassword: () => undefined,
      },
    );
    try {
      await expect
        .poll(() => lines.find((l) => l.includes("run gatehouse idp test corp")), { timeout: 10_000 })
        .toContain('"step":"discovery"');
    } finally {
      await gh.close();
    }
  });

  it("forgets the provider links of sessions that ended", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gatehouse-idppurge-"));
    const gh = await startGatehouse(
      resolveConfig([{ name: "test", settings: { listen: "127.0.0.1:0", dataDir: dir } }]),
      { log: pino({ level: "silent" }), now: () => Date.now(), onAdminPassword: () => undefined },
    );
    try {
      const ring = KeyRing.create([{ id: "k", key: Buffer.alloc(32, 3) }]);
      const up = new UpstreamSessions(
        gh.store,
        ring,
        {} as ProviderRegistry,
        pino({ level: "silent" }),
        Date.now,
      );
      const identity = { provider: "corp", subject: "s", username: "u", groups: [] };
      await up.attach("session-live", up.seal(identity));
      await up.attach("session-ended", up.seal(identity));
      expect(await up.purge(async (id) => id === "session-live")).toBe(1);
      const left = await gh.store.objects.list("SessionUpstream", { limit: 10 });
      expect(left.items.map((o) => o.name)).toEqual(["session-live"]);
    } finally {
      await gh.close();
    }
  });
});
