import { chmodSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  CacheError,
  deleteCache,
  kubeconfigPath,
  mergeLogin,
  readCache,
  readKubeconfig,
  writeKubeconfig,
  type CachedLogin,
} from "../../src/identity/client/index.js";
import { writeCache } from "../../src/identity/client/cache.js";

const login = {
  server: "https://gatehouse.example:8443",
  user: "alice",
  caPem: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
  clusters: ["prod", "dev"],
  exec: { command: "/usr/bin/node", args: ["/opt/gatehouse/main.js"] },
};

describe("merging a login into a kubeconfig", () => {
  it("adds a cluster and context per cluster and one exec user, with no token in it", () => {
    const out = mergeLogin({}, login);
    expect(out["current-context"]).toBe("prod");
    expect(out["clusters"]).toEqual([
      {
        name: "prod",
        cluster: {
          server: "https://gatehouse.example:8443/k8s/clusters/prod",
          "certificate-authority-data": Buffer.from(login.caPem).toString("base64"),
        },
      },
      {
        name: "dev",
        cluster: {
          server: "https://gatehouse.example:8443/k8s/clusters/dev",
          "certificate-authority-data": Buffer.from(login.caPem).toString("base64"),
        },
      },
    ]);
    expect(out["contexts"]).toEqual([
      { name: "prod", context: { cluster: "prod", user: "alice@gatehouse.example:8443" } },
      { name: "dev", context: { cluster: "dev", user: "alice@gatehouse.example:8443" } },
    ]);
    expect(out["users"]).toEqual([
      {
        name: "alice@gatehouse.example:8443",
        user: {
          exec: {
            apiVersion: "client.authentication.k8s.io/v1",
            command: "/usr/bin/node",
            args: [
              "/opt/gatehouse/main.js",
              "token",
              "--server",
              "https://gatehouse.example:8443",
              "--user",
              "alice",
            ],
            interactiveMode: "Never",
            provideClusterInfo: false,
          },
        },
      },
    ]);
  });

  it("keeps other entries and the current context, and replaces its own on a second login", () => {
    const existing = {
      apiVersion: "v1",
      kind: "Config",
      preferences: { colors: true },
      clusters: [
        { name: "kind", cluster: { server: "https://127.0.0.1:6443" } },
        { name: "prod", cluster: { server: "https://stale.example" } },
      ],
      users: [{ name: "kind-admin", user: { token: "keep" } }],
      contexts: [{ name: "kind", context: { cluster: "kind", user: "kind-admin" } }],
      "current-context": "kind",
    };
    const out = mergeLogin(existing, login);
    expect(out["current-context"]).toBe("kind");
    expect(out["preferences"]).toEqual({ colors: true });
    const clusters = out["clusters"] as { name: string; cluster: { server: string } }[];
    expect(clusters.map((c) => c.name)).toEqual(["kind", "prod", "dev"]);
    expect(clusters.find((c) => c.name === "prod")?.cluster.server).toBe(
      "https://gatehouse.example:8443/k8s/clusters/prod",
    );
    expect(out["users"]).toContainEqual({ name: "kind-admin", user: { token: "keep" } });
    const again = mergeLogin(out, login);
    expect((again["users"] as unknown[]).length).toBe(2);
    expect((again["contexts"] as unknown[]).length).toBe(3);
  });

  it("writes the file atomically with mode 0600 and reads it back", () => {
    const dir = mkdtempSync(join(tmpdir(), "gh-kc-"));
    const path = join(dir, "sub", "config");
    writeKubeconfig(path, mergeLogin({}, login));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readKubeconfig(path)["current-context"]).toBe("prod");
    expect(parse(readFileSync(path, "utf8"))).toEqual(readKubeconfig(path));
    expect(readKubeconfig(join(dir, "absent"))).toEqual({});
    writeFileSync(join(dir, "bad"), "clusters: [unclosed");
    expect(() => readKubeconfig(join(dir, "bad"))).toThrow(/not valid YAML/);
  });

  it("finds the kubeconfig as kubectl does: flag, then the first $KUBECONFIG entry, then ~/.kube/config", () => {
    expect(kubeconfigPath("/x", { KUBECONFIG: "/a:/b" })).toBe("/x");
    expect(kubeconfigPath(undefined, { KUBECONFIG: "/a:/b" })).toBe("/a");
    expect(kubeconfigPath(undefined, {})).toMatch(/\.kube\/config$/);
  });
});

describe("the token cache", () => {
  const entry: CachedLogin = {
    server: "https://gatehouse.example:8443",
    user: "alice",
    accessToken: "eyJ.a.b",
    accessTokenExpiresAt: "2026-11-28T10:15:00.000Z",
    refreshToken: "ghr.secret",
    sessionId: "s1",
  };

  it("keeps one 0600 file per user and server in a 0700 directory", () => {
    const dir = join(mkdtempSync(join(tmpdir(), "gh-cache-")), "cache");
    writeCache(dir, entry);
    writeCache(dir, { ...entry, user: "bob", refreshToken: "ghr.bob" });
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(readCache(dir, "https://gatehouse.example:8443/", "alice")?.refreshToken).toBe("ghr.secret");
    expect(readCache(dir, entry.server, "bob")?.refreshToken).toBe("ghr.bob");
    expect(readCache(dir, "https://other.example", "alice")).toBeUndefined();
    expect(deleteCache(dir, entry.server, "alice")).toBe(true);
    expect(readCache(dir, entry.server, "alice")).toBeUndefined();
    expect(readCache(dir, entry.server, "bob")).toBeDefined();
  });

  it("tightens a cache directory that others can read before writing into it", () => {
    const dir = join(mkdtempSync(join(tmpdir(), "gh-cache-")), "cache");
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    writeCache(dir, entry);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  it("refuses a cache path that is not a directory", () => {
    const base = mkdtempSync(join(tmpdir(), "gh-cache-"));
    writeFileSync(join(base, "file"), "");
    expect(() => writeCache(join(base, "file"), entry)).toThrow();
    expect(CacheError).toBeDefined();
  });
});
