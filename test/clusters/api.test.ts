import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClusterCredentialsError } from "../../src/clusters/index.js";
import { eventually, startFixture, type GatehouseFixture } from "./fixture.js";

const BASE = "/apis/gatehouse.io/v1alpha1/clusters";
// Nothing listens on port 1: health checks fail fast, which these tests do not mind.
const SERVER = "https://127.0.0.1:1";
const TOKEN = "tok-0123456789abcdef";

function cluster(
  name: string,
  spec: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { apiVersion: "gatehouse.io/v1alpha1", kind: "Cluster", metadata: { name }, spec, ...extra };
}

describe("the clusters API (gatehouse.io/v1alpha1, SQLite)", () => {
  let gh: GatehouseFixture;
  let ca64 = "";
  let cert64 = "";
  let key64 = "";
  beforeAll(async () => {
    gh = await startFixture();
    const tls = join(gh.dir, "tls");
    ca64 = readFileSync(join(tls, "ca.crt")).toString("base64");
    // Any certificate with its key will do as a client certificate.
    cert64 = readFileSync(join(tls, "serving.crt")).toString("base64");
    key64 = readFileSync(join(tls, "serving.key")).toString("base64");
  });
  afterAll(async () => {
    await gh?.stop();
  });

  it("is listed in discovery", async () => {
    const r = await gh.api("GET", "/apis/gatehouse.io/v1alpha1");
    const names = (r.json()["resources"] as { name: string }[]).map((x) => x.name);
    expect(names).toContain("clusters");
    expect(names).toContain("reencryptions");
  });

  it("accepts credentials on create and serves only {type, encrypted: true}", async () => {
    const r = await gh.api(
      "POST",
      BASE,
      cluster(
        "one",
        { server: SERVER, caData: ca64, credentials: { token: TOKEN } },
        {
          metadata: { name: "one", labels: { env: "dev" } },
          status: {
            impersonator: {
              serviceAccount: "gatehouse-system/gatehouse-gateway",
              tokenExpirationTimestamp: "2030-01-01T00:00:00Z",
            },
            kubernetesVersion: "v9.9.9",
          },
        },
      ),
    );
    expect(r.status).toBe(201);
    expect(r.body).not.toContain(TOKEN);
    const body = r.json();
    expect(body["spec"]).toEqual({
      server: SERVER,
      caData: ca64,
      credentials: { type: "token", encrypted: true },
    });
    // Of a client's status only the impersonator, which describes the credential sent with it, is kept.
    expect(body["status"]).toEqual({
      impersonator: {
        serviceAccount: "gatehouse-system/gatehouse-gateway",
        tokenExpirationTimestamp: "2030-01-01T00:00:00Z",
      },
    });
    expect((await gh.registry().get("one"))?.token).toBe(TOKEN);
  });

  it("accepts a client certificate and refuses one whose key does not match", async () => {
    const ok = await gh.api(
      "POST",
      BASE,
      cluster("cert", {
        server: SERVER,
        credentials: { clientCertificateData: cert64, clientKeyData: key64 },
      }),
    );
    expect(ok.status).toBe(201);
    expect(ok.json()["spec"]).toMatchObject({ credentials: { type: "clientCertificate", encrypted: true } });
    expect(ok.body).not.toContain(key64.slice(0, 40));
    const t = await gh.registry().get("cert");
    expect(t?.clientKeyPem).toBe(Buffer.from(key64, "base64").toString());
    expect(t?.clientCertPem).toBe(Buffer.from(cert64, "base64").toString());
    const otherKey = readFileSync(join(gh.dir, "tls", "ca.key")).toString("base64");
    const bad = await gh.api(
      "POST",
      BASE,
      cluster("cert2", {
        server: SERVER,
        credentials: { clientCertificateData: cert64, clientKeyData: otherKey },
      }),
    );
    expect(bad.status).toBe(422);
    expect(bad.json()["message"]).toContain(
      "spec.credentials.clientKeyData: does not match the client certificate",
    );
  });

  it.each([
    ["no credentials", { server: SERVER }, "spec.credentials: required"],
    [
      "the served placeholder on create",
      { server: SERVER, credentials: { type: "token", encrypted: true } },
      "spec.credentials: required",
    ],
    [
      "an http server",
      { server: "http://10.0.0.1", credentials: { token: TOKEN } },
      "spec.server: must be an https:// URL",
    ],
    [
      "a server with user info",
      { server: "https://u:p@10.0.0.1", credentials: { token: TOKEN } },
      "spec.server: must not carry user info",
    ],
    [
      "a CA that is no certificate",
      { server: SERVER, caData: "bm90IGEgY2VydA==", credentials: { token: TOKEN } },
      "spec.caData: must be base64 of PEM",
    ],
    [
      "a CA with insecureSkipTLSVerify",
      { server: SERVER, caData: "CA", insecureSkipTLSVerify: true, credentials: { token: TOKEN } },
      "cannot be true together with spec.caData",
    ],
    [
      "a token with a line break",
      { server: SERVER, credentials: { token: `${TOKEN}\r\nX-Evil: 1` } },
      "spec.credentials.token: must be",
    ],
    [
      "a token and a certificate",
      { server: SERVER, credentials: { token: TOKEN, clientKeyData: "x" } },
      "spec.credentials: required: {token}",
    ],
    [
      "an unknown field",
      { server: SERVER, credentials: { token: TOKEN }, proxyUrl: "x" },
      "spec.proxyUrl: unknown field",
    ],
  ])("refuses %s with 422 Invalid, never quoting the credential", async (_what, spec, message) => {
    const r = await gh.api("POST", BASE, cluster("bad", spec));
    expect(r.status).toBe(422);
    expect(r.json()["reason"]).toBe("Invalid");
    expect(r.json()["message"]).toContain(message);
    expect(r.body).not.toContain(TOKEN);
    expect(await gh.registry().get("bad")).toBeUndefined();
  });

  it("refuses label keys and values Kubernetes would refuse", async () => {
    const r = await gh.api("POST", BASE, {
      ...cluster("lbl", { server: SERVER, credentials: { token: TOKEN } }),
      metadata: { name: "lbl", labels: { "-bad": "x", ok: "no spaces allowed" } },
    });
    expect(r.status).toBe(422);
    expect(r.json()["message"]).toContain('metadata.labels["-bad"]: key name part');
    expect(r.json()["message"]).toContain('metadata.labels["ok"]: value must be');
  });

  it("on replace keeps the stored credential when the placeholder is sent back, and ignores a client's status", async () => {
    const got = (await gh.api("GET", `${BASE}/one`)).json();
    const meta = got["metadata"] as Record<string, unknown>;
    const r = await gh.api("PUT", `${BASE}/one`, {
      ...got,
      metadata: { ...meta, labels: { env: "prod" } },
      status: {
        kubernetesVersion: "v0.0.0-forged",
        health: { ready: true, message: "forged", lastChecked: "2000-01-01T00:00:00Z" },
      },
    });
    // The health checker may have written status since the GET: a conflict is the optimistic answer.
    if (r.status === 409) {
      const again = (await gh.api("GET", `${BASE}/one`)).json();
      const r2 = await gh.api("PUT", `${BASE}/one`, {
        ...again,
        metadata: { name: "one", labels: { env: "prod" } },
      });
      expect(r2.status).toBe(200);
    } else expect(r.status).toBe(200);
    const now = (await gh.api("GET", `${BASE}/one`)).json();
    expect(JSON.stringify(now["status"])).not.toContain("forged");
    expect(now["status"]).toMatchObject({
      impersonator: { serviceAccount: "gatehouse-system/gatehouse-gateway" },
    });
    const t = await gh.registry().get("one");
    expect(t?.token).toBe(TOKEN);
    expect(t?.labels).toEqual({ env: "prod" });
  });

  it("will not send a stored credential to a new server or without TLS verification: that needs new credentials", async () => {
    const moved = await gh.api(
      "PUT",
      `${BASE}/one`,
      cluster("one", {
        server: "https://attacker.example:6443",
        credentials: { type: "token", encrypted: true },
      }),
    );
    expect(moved.status).toBe(422);
    expect(moved.json()["message"]).toContain("spec.credentials: required when spec.server changes");
    const unverified = await gh.api(
      "PUT",
      `${BASE}/one`,
      cluster("one", {
        server: SERVER,
        insecureSkipTLSVerify: true,
        credentials: { type: "token", encrypted: true },
      }),
    );
    expect(unverified.status).toBe(422);
    expect(unverified.json()["message"]).toContain("required when spec.insecureSkipTLSVerify is turned on");
    const withNew = await gh.api(
      "PUT",
      `${BASE}/one`,
      cluster("one", { server: "https://127.0.0.1:2", credentials: { token: "new-token" } }),
    );
    expect(withNew.status).toBe(200);
    const t = await gh.registry().get("one");
    expect(t).toMatchObject({ server: "https://127.0.0.1:2", token: "new-token" });
    // The impersonator described the old credential; the new one came without a description.
    expect(withNew.json()["status"]).not.toHaveProperty("impersonator");
  });

  it("a ciphertext copied onto another cluster does not open there (it is bound to its object)", async () => {
    await gh.api("POST", BASE, cluster("victim", { server: SERVER, credentials: { token: "victim-token" } }));
    await gh.api(
      "POST",
      BASE,
      cluster("thief", { server: "https://127.0.0.1:3", credentials: { token: "thief-token" } }),
    );
    const key = (name: string) => ({ kind: "Cluster", namespace: "", name });
    const victim = await gh.gh.store.objects.get(key("victim"));
    const thief = await gh.gh.store.objects.get(key("thief"));
    const stolen = (victim?.body["spec"] as Record<string, unknown>)["credentials"];
    await gh.gh.store.objects.update(key("thief"), {
      ...thief?.body,
      spec: { ...(thief?.body["spec"] as object), credentials: stolen },
    });
    const registry = gh.registry();
    await expect(registry.get("thief")).rejects.toBeInstanceOf(ClusterCredentialsError);
    await expect(registry.get("thief")).rejects.toThrow(
      /cannot decrypt Cluster\/thief\/credentials: authentication failed/,
    );
    expect((await registry.list()).map((t) => t.name)).not.toContain("thief");
    expect((await registry.get("victim"))?.token).toBe("victim-token");
    // The health checker reports why the cluster cannot be used (after the next write triggers a round).
    await gh.api("DELETE", `${BASE}/cert`);
    const health = await eventually(
      async () => {
        const h = (
          (await gh.api("GET", `${BASE}/thief`)).json()["status"] as {
            health?: { ready: boolean; message: string };
          }
        ).health;
        return h?.message.includes("authentication failed") ? h : undefined;
      },
      10_000,
      "the health checker to report the bad credential",
    );
    expect(health.ready).toBe(false);
  });

  it("reports an unreachable cluster as not ready, with the reason", async () => {
    const h = await eventually(
      async () => {
        const s = (await gh.api("GET", `${BASE}/victim`)).json()["status"] as {
          health?: { ready: boolean; message: string };
        };
        return s.health;
      },
      10_000,
      "a health result",
    );
    expect(h.ready).toBe(false);
    expect(h.message).toContain("ECONNREFUSED");
  });

  it("is for admins only", async () => {
    await gh.api("POST", "/apis/gatehouse.io/v1alpha1/users", {
      apiVersion: "gatehouse.io/v1alpha1",
      kind: "User",
      metadata: { name: "dev" },
      spec: { groups: [], password: "a-long-enough-password" },
    });
    const { call } = await import("../server/client.js");
    const r = await call(gh.gh.url, gh.gh.caFile as string, "GET", BASE, {
      auth: ["dev", "a-long-enough-password"],
    });
    expect(r.status).toBe(403);
  });
});
