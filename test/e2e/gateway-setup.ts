import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { resolveConfig } from "../../src/config/index.js";
import { startGatehouse, type Gatehouse } from "../../src/server/app.js";
import type { ClusterRegistry, ClusterTarget } from "../../src/clusters/types.js";
import type { TestCluster } from "../harness/clusters.js";
import { call } from "../server/client.js";

export interface GatewayFixture {
  gh: Gatehouse;
  ca: string;
  admin: [string, string];
  dir: string;
  /** POST/PUT a gatehouse.io object as the admin; throws unless 2xx. */
  apply(plural: string, obj: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** Bind users to a role on named clusters with an AccessBinding (the commonest test setup). */
  bind(name: string, users: string[], role: string, clusters: string[]): Promise<Record<string, unknown>>;
  /** A user with an access key, and a kubeconfig for it with one context per cluster through the gateway. */
  user(name: string, groups?: string[]): Promise<{ token: string; kubeconfig: string }>;
}

/**
 * Gatehouse in-process in front of real clusters. The registry here hands the gateway each harness
 * cluster's URL, CA and admin token directly; registering clusters through the API and the least-privilege
 * impersonator are tested with src/clusters.
 */
export async function startGatewayFixture(
  clusters: TestCluster[],
  labels: Record<string, Record<string, string>>,
  extra: ClusterTarget[] = [],
): Promise<GatewayFixture> {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-gw-"));
  const targets: ClusterTarget[] = [
    ...clusters.map((c) => ({
      name: c.name,
      labels: labels[c.name] ?? {},
      server: c.url,
      caPem: c.caPem,
      insecureSkipTLSVerify: false,
      token: c.adminToken,
    })),
    ...extra,
  ];
  const registry: ClusterRegistry = {
    get: async (name) => targets.find((t) => t.name === name),
    list: async () => targets,
    invalidate: () => undefined,
  };
  let password = "";
  const gh = await startGatehouse(
    resolveConfig([{ name: "test", settings: { listen: "127.0.0.1:0", dataDir: dir } }]),
    { log: pino({ level: "silent" }), now: () => Date.now(), onAdminPassword: (pw) => (password = pw) },
    () => registry,
  );
  const ca = gh.caFile as string;
  const admin: [string, string] = ["admin", password];
  const send = async (method: string, path: string, body: unknown): Promise<Record<string, unknown>> => {
    const r = await call(gh.url, ca, method, path, {
      auth: admin,
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.body}`);
    return r.json();
  };
  return {
    gh,
    ca,
    admin,
    dir,
    apply: (plural, obj) =>
      send("POST", `/apis/gatehouse.io/v1alpha1/${plural}`, { apiVersion: "gatehouse.io/v1alpha1", ...obj }),
    bind: (name, users, role, names) =>
      send("POST", "/apis/gatehouse.io/v1alpha1/accessbindings", {
        apiVersion: "gatehouse.io/v1alpha1",
        kind: "AccessBinding",
        metadata: { name },
        spec: {
          subjects: users.map((u) => ({ kind: "User", name: u })),
          roleRef: { name: role },
          clusters: { names },
        },
      }),
    async user(name, groups = []) {
      await send("POST", "/apis/gatehouse.io/v1alpha1/users", {
        apiVersion: "gatehouse.io/v1alpha1",
        kind: "User",
        metadata: { name },
        spec: { groups },
      });
      const key = await send("POST", "/apis/gatehouse.io/v1alpha1/accesskeys", {
        apiVersion: "gatehouse.io/v1alpha1",
        kind: "AccessKey",
        metadata: { name: `${name}-key` },
        spec: { user: name },
      });
      const token = (key["status"] as { token: string }).token;
      const kubeconfig = join(dir, `${name}.kubeconfig`);
      writeFileSync(
        kubeconfig,
        gatewayKubeconfig(
          gh.url,
          ca,
          targets.map((t) => t.name),
          name,
          token,
        ),
      );
      return { token, kubeconfig };
    },
  };
}

export function gatewayKubeconfig(
  url: string,
  ca: string,
  clusters: string[],
  user: string,
  token: string,
): string {
  const lines = ["apiVersion: v1", "kind: Config", "clusters:"];
  for (const c of clusters)
    lines.push(
      `- name: ${c}`,
      "  cluster:",
      `    server: ${url}/k8s/clusters/${c}`,
      `    certificate-authority: ${ca}`,
    );
  lines.push("users:", `- name: ${user}`, "  user:", `    token: ${token}`, "contexts:");
  for (const c of clusters)
    lines.push(`- name: ${c}`, "  context:", `    cluster: ${c}`, `    user: ${user}`);
  lines.push(`current-context: ${clusters[0]}`, "");
  return lines.join("\n");
}
