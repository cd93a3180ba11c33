import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { resolveConfig, type ServerConfig } from "../../src/config/index.js";
import { startGatehouse, type Gatehouse } from "../../src/server/app.js";
import type { ClusterRegistry, ClusterTarget } from "../../src/clusters/types.js";
import type { TestCluster } from "../harness/clusters.js";
import { call, type Reply } from "../server/client.js";

export interface IdentityFixture {
  gh: Gatehouse;
  config: ServerConfig;
  ca: string;
  dir: string;
  /** Put a harness cluster behind the gateway (the registry is open to additions). */
  addCluster(c: TestCluster): void;
  /** As the admin: send a JSON body, throw unless 2xx. */
  admin(method: string, path: string, body?: unknown): Promise<Record<string, unknown>>;
  /** Any call, with optional bearer token. */
  call(method: string, path: string, opts?: { bearer?: string; body?: unknown }): Promise<Reply>;
  /** A local user with a password. */
  user(name: string, password: string, groups?: string[]): Promise<void>;
}

/**
 * Gatehouse alone first, clusters after: a cluster in webhook or direct mode needs Gatehouse's URL
 * before it starts. The registry hands the gateway each harness cluster's admin token directly.
 */
export async function startIdentityFixture(): Promise<IdentityFixture> {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-id-"));
  const targets: ClusterTarget[] = [];
  const registry: ClusterRegistry = {
    get: async (name) => targets.find((t) => t.name === name),
    list: async () => targets,
    invalidate: () => undefined,
  };
  const config = resolveConfig([{ name: "test", settings: { listen: "127.0.0.1:0", dataDir: dir } }]);
  let password = "";
  const gh = await startGatehouse(
    config,
    { log: pino({ level: "silent" }), now: () => Date.now(), onAdminPassword: (pw) => (password = pw) },
    () => registry,
  );
  const ca = gh.caFile as string;
  const anyCall = (method: string, path: string, opts: { bearer?: string; body?: unknown } = {}) =>
    call(gh.url, ca, method, path, {
      headers: {
        ...(opts.body !== undefined ? { "content-type": "application/json" } : {}),
        ...(opts.bearer ? { authorization: `Bearer ${opts.bearer}` } : {}),
      },
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    });
  const admin = async (method: string, path: string, body?: unknown): Promise<Record<string, unknown>> => {
    const r = await call(gh.url, ca, method, path, {
      auth: ["admin", password],
      headers: { "content-type": "application/json" },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.body}`);
    return r.json();
  };
  writeFileSync(join(dir, "admin-password"), password, { mode: 0o600 });
  return {
    gh,
    config,
    ca,
    dir,
    addCluster: (c) =>
      targets.push({
        name: c.name,
        labels: {},
        server: c.url,
        caPem: c.caPem,
        insecureSkipTLSVerify: false,
        token: c.adminToken,
      }),
    admin,
    call: anyCall,
    user: async (name, pw, groups = []) => {
      await admin("POST", "/apis/gatehouse.io/v1alpha1/users", {
        apiVersion: "gatehouse.io/v1alpha1",
        kind: "User",
        metadata: { name },
        spec: { groups, password: pw },
      });
    },
  };
}

/** The kubeconfig a cluster's --authentication-token-webhook-config-file points at. */
export function webhookKubeconfig(ghUrl: string, caFile: string, token: string): string {
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "- name: gatehouse",
    "  cluster:",
    `    server: ${ghUrl}/apis/authentication.k8s.io/v1/tokenreviews`,
    `    certificate-authority: ${caFile}`,
    "users:",
    "- name: cluster",
    "  user:",
    `    token: ${token}`,
    "contexts:",
    "- name: webhook",
    "  context:",
    "    cluster: gatehouse",
    "    user: cluster",
    "current-context: webhook",
    "",
  ].join("\n");
}

/** The AuthenticationConfiguration a cluster in direct mode is started with (--authentication-config). */
export function directAuthenticationConfig(issuer: string, caPem: string): string {
  const ca = caPem
    .trim()
    .split("\n")
    .map((l) => `      ${l}`)
    .join("\n");
  return [
    "apiVersion: apiserver.config.k8s.io/v1",
    "kind: AuthenticationConfiguration",
    "jwt:",
    "- issuer:",
    `    url: ${issuer}`,
    "    audiences: [gatehouse]",
    "    certificateAuthority: |",
    ca,
    "  claimMappings:",
    "    username:",
    "      claim: sub",
    '      prefix: "gatehouse:"',
    "    groups:",
    "      claim: groups",
    '      prefix: "gatehouse:"',
    "    uid:",
    "      claim: uid",
    "",
  ].join("\n");
}
