import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Store } from "../../src/store/index.js";
import { verifyStoredChain } from "../../src/audit/index.js";
import { startClusters, type TestCluster } from "../harness/clusters.js";
import { freePort } from "../harness/ports.js";
import { call } from "../server/client.js";
import { kubectl } from "../e2e/kubectl.js";
import { gatewayKubeconfig } from "../e2e/gateway-setup.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const API = "/apis/gatehouse.io/v1alpha1";

interface Running {
  child: ChildProcess;
  url: string;
  ca: string;
  password?: string;
}

/** Start Gatehouse (test/audit-pipeline/crash-server.ts) as its own process. */
function startServer(env: Record<string, string>): Promise<Running> {
  return new Promise((resolve, reject) => {
    // node itself (not the tsx wrapper), so that SIGKILL reaches the server process.
    const child = spawn(
      process.execPath,
      ["--import", "tsx", join(ROOT, "test/audit-pipeline/crash-server.ts")],
      {
        cwd: ROOT,
        env: { ...process.env, ...env },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    let err = "";
    const timer = setTimeout(() => reject(new Error(`not ready: ${err}`)), 60_000);
    child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const m = out.match(/READY (\S+) (\S+)\n/);
      if (m) {
        clearTimeout(timer);
        const pw = out.match(/PASSWORD (\S+)\n/)?.[1];
        resolve({ child, url: m[1] as string, ca: m[2] as string, ...(pw ? { password: pw } : {}) });
      }
    });
    child.on("exit", (code) => reject(new Error(`exited ${code}: ${err}`)));
  });
}

describe("a crash under load loses no audit event of a request that succeeded (blocking-strict)", () => {
  let clusters: TestCluster[];
  let server: Running | undefined;
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-audit-crash-"));
  let env: Record<string, string>;

  beforeAll(async () => {
    clusters = await startClusters(1);
    const c = clusters[0] as TestCluster;
    env = {
      GH_CLUSTER: JSON.stringify({
        name: c.name,
        labels: {},
        server: c.url,
        caPem: c.caPem,
        insecureSkipTLSVerify: false,
        token: c.adminToken,
      }),
      GH_PORT: String(await freePort()),
      GH_DATA_DIR: dir,
      GH_AUDIT_MODE: "blocking-strict",
    };
  });
  afterAll(async () => {
    server?.child.kill("SIGKILL");
    await Promise.all((clusters ?? []).map((c) => c.stop()));
  });

  it("keeps every successful request's events after kill -9, and marks those cut off as incomplete", async () => {
    server = await startServer(env);
    const { url, ca } = server;
    const admin: [string, string] = ["admin", server.password as string];
    const post = async (path: string, body: unknown) => {
      const r = await call(url, ca, "POST", path, {
        auth: admin,
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      expect(r.status, r.body).toBeLessThan(300);
      return r.json();
    };
    await post(`${API}/users`, {
      apiVersion: "gatehouse.io/v1alpha1",
      kind: "User",
      metadata: { name: "alice" },
      spec: {},
    });
    const key = await post(`${API}/accesskeys`, {
      apiVersion: "gatehouse.io/v1alpha1",
      kind: "AccessKey",
      metadata: { name: "alice-key" },
      spec: { user: "alice" },
    });
    const token = (key["status"] as { token: string }).token;
    await post(`${API}/accessbindings`, {
      apiVersion: "gatehouse.io/v1alpha1",
      kind: "AccessBinding",
      metadata: { name: "alice-edit" },
      spec: {
        subjects: [{ kind: "User", name: "alice" }],
        roleRef: { name: "edit" },
        clusters: { names: ["cluster-1"] },
      },
    });
    const create = (name: string) =>
      call(url, ca, "POST", "/k8s/clusters/cluster-1/api/v1/namespaces/default/configmaps", {
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name }, data: { a: "b" } }),
      });
    // Wait until the cluster's own RBAC (the second gate) lets alice in.
    const deadline = Date.now() + 30_000;
    while ((await create(`warmup-${Date.now()}`)).status !== 201 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 250));
    expect((await create("ready")).status).toBe(201);

    const succeeded: string[] = [];
    let stop = false;
    const worker = async (w: number) => {
      for (let i = 0; !stop; i++) {
        try {
          const r = await create(`load-${w}-${i}`);
          if (r.status === 201) succeeded.push(String(r.headers["audit-id"]));
        } catch {
          return; // the server died under this request
        }
      }
    };
    const kubeconfig = join(dir, "alice.kubeconfig");
    writeFileSync(kubeconfig, gatewayKubeconfig(url, ca, ["cluster-1"], "alice", token));
    const kubectlLoad = async (w: number) => {
      for (let i = 0; !stop; i++)
        await kubectl([
          "--kubeconfig",
          kubeconfig,
          "create",
          "configmap",
          `kubectl-${w}-${i}`,
          "-n",
          "default",
        ]);
    };
    const load = [0, 1, 2, 3].map(worker).concat([kubectlLoad(0), kubectlLoad(1)]);
    await new Promise((r) => setTimeout(r, 3000));
    server.child.kill("SIGKILL");
    await new Promise((r) => server?.child.once("exit", r));
    stop = true;
    await Promise.all(load);
    expect(succeeded.length).toBeGreaterThan(20);

    server = await startServer(env);
    const store = await Store.open({ kind: "sqlite", path: join(dir, "gatehouse.db") });
    try {
      const all = await store.audit.query(
        { source: "gateway", user: "alice", verb: "create" },
        { limit: 100_000 },
      );
      const stages = new Map<string, Set<string>>();
      for (const e of all.items) {
        const s = stages.get(e.event.auditID) ?? new Set<string>();
        s.add(e.event.stage);
        stages.set(e.event.auditID, s);
      }
      const missing = succeeded.filter((id) => !stages.get(id)?.has("RequestReceived"));
      expect(missing).toEqual([]);
      // Requests cut off between forwarding and completion are listed as incomplete, not lost.
      const incomplete = await store.audit.query({ source: "gateway", incomplete: true }, { limit: 100_000 });
      const cut = succeeded.filter((id) => !stages.get(id)?.has("ResponseComplete"));
      const incompleteIds = new Set(incomplete.items.map((e) => e.event.auditID));
      expect(cut.every((id) => incompleteIds.has(id))).toBe(true);
      expect(incomplete.items.length).toBeLessThanOrEqual(16);
      expect((await verifyStoredChain(store.audit)).ok).toBe(true);
    } finally {
      await store.close();
    }
  }, 120_000);
});
