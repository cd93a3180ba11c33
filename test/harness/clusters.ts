/**
 * Real Kubernetes control planes for tests: the upstream kube-apiserver (and, on request,
 * kube-controller-manager) built from the Go module proxy with an embedded etcd, one process per
 * cluster on free loopback ports. No Docker, no fakes.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, createWriteStream } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent, request } from "node:https";
import { freePort } from "./ports.js";
// @ts-expect-error -- plain ESM script shared with the npm scripts; it has no type declarations.
import { ensureKube } from "../../scripts/ensure-kube.mjs";

export interface TestUser {
  name: string;
  groups?: string[];
  /** A static bearer token; generated when absent. */
  token?: string;
}

export interface ClusterOptions {
  /** Cluster name; default cluster-1, cluster-2, ... */
  name?: string;
  /** Extra kube-apiserver flags, e.g. --audit-policy-file=... */
  extraArgs?: string[];
  /** Users with static tokens, besides the admin (in system:masters). */
  users?: TestUser[];
  /** Also run kube-controller-manager (namespace finalization, service-account tokens, GC). */
  controllerManager?: boolean;
  /** Keep the data directory after stop (for debugging). */
  keepDir?: boolean;
  /** Parent directory for the cluster's data directory; default the OS temp dir. */
  baseDir?: string;
}

export interface TestCluster {
  name: string;
  /** https://127.0.0.1:PORT */
  url: string;
  caPem: string;
  caFile: string;
  /** Admin kubeconfig (static token, group system:masters). */
  kubeconfigPath: string;
  adminToken: string;
  /** Tokens of the extra users, by user name. */
  tokens: Record<string, string>;
  dir: string;
  pid: number;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 120_000;

/** Start n independent clusters in parallel; all are ready (/readyz ok) when this resolves. */
export async function startClusters(n: number, opts: ClusterOptions = {}): Promise<TestCluster[]> {
  await ensureKube({ quiet: true });
  const results = await Promise.allSettled(
    Array.from({ length: n }, (_, i) => startCluster({ ...opts, name: opts.name ?? `cluster-${i + 1}` })),
  );
  const started = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const failed = results.find((r) => r.status === "rejected");
  if (failed) {
    await Promise.all(started.map((c) => c.stop()));
    throw (failed as PromiseRejectedResult).reason;
  }
  return started;
}

/** Start one cluster, retrying when a chosen port was taken in the meantime. */
export async function startCluster(opts: ClusterOptions = {}): Promise<TestCluster> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startClusterOnce(opts);
    } catch (e) {
      if (attempt >= 3 || !String(e).includes("address already in use")) throw e;
    }
  }
}

async function startClusterOnce(opts: ClusterOptions): Promise<TestCluster> {
  const binary: string = await ensureKube({ quiet: true });
  const name = opts.name ?? "cluster-1";
  const dir = mkdtempSync(join(opts.baseDir ?? tmpdir(), `gatehouse-${name}-`));
  const [port, etcdClient, etcdPeer] = [await freePort(), await freePort(), await freePort()];
  const adminToken = randomBytes(24).toString("hex");
  const tokens: Record<string, string> = {};
  const lines = [`${adminToken},admin,admin-uid,"system:masters"`];
  for (const u of opts.users ?? []) {
    const t = u.token ?? randomBytes(24).toString("hex");
    tokens[u.name] = t;
    lines.push(`${t},${u.name},${u.name}-uid,"${(u.groups ?? []).join(",")}"`);
  }
  writeFileSync(join(dir, "tokens.csv"), lines.join("\n") + "\n", { mode: 0o600 });
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  writeFileSync(join(dir, "sa.pub"), publicKey.export({ type: "spki", format: "pem" }));
  writeFileSync(join(dir, "sa.key"), privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
  mkdirSync(join(dir, "certs"));

  const args = [
    "apiserver",
    `--etcd-dir=${join(dir, "etcd")}`,
    `--etcd-client-url=http://127.0.0.1:${etcdClient}`,
    `--etcd-peer-url=http://127.0.0.1:${etcdPeer}`,
    "--",
    "--advertise-address=127.0.0.1",
    "--bind-address=127.0.0.1",
    `--secure-port=${port}`,
    `--cert-dir=${join(dir, "certs")}`,
    "--service-cluster-ip-range=10.96.0.0/16",
    `--service-account-key-file=${join(dir, "sa.pub")}`,
    `--service-account-signing-key-file=${join(dir, "sa.key")}`,
    "--service-account-issuer=https://kubernetes.default.svc",
    "--authorization-mode=RBAC",
    `--token-auth-file=${join(dir, "tokens.csv")}`,
    "--disable-admission-plugins=ServiceAccount",
    "--profiling=false",
    // A loopback advertise address cannot be published as the kubernetes Service endpoint.
    "--endpoint-reconciler-type=none",
    "--enable-priority-and-fairness=false",
    ...(opts.extraArgs ?? []),
  ];
  const log = createWriteStream(join(dir, "apiserver.log"));
  const proc = spawn(binary, args, {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, KUBE_TESTCLUSTER_EXIT_WITH_PARENT: "1" },
  });
  proc.stdout?.pipe(log);
  proc.stderr?.pipe(log);
  const procs: ChildProcess[] = [proc];
  let stopped = false;
  const url = `https://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await Promise.all(procs.map(killAndWait));
    log.end();
    if (!opts.keepDir && !process.env.KEEP) rmSync(dir, { recursive: true, force: true });
  };

  try {
    await waitReady(url, adminToken, proc, join(dir, "apiserver.log"));
  } catch (e) {
    await stop();
    throw e;
  }
  // The self-signed serving certificate file holds the chain, CA included.
  const caFile = join(dir, "certs", "apiserver.crt");
  const caPem = readFileSync(caFile, "utf8");
  const kubeconfigPath = join(dir, "admin.kubeconfig");
  writeFileSync(kubeconfigPath, kubeconfig(name, url, caFile, "admin", adminToken), { mode: 0o600 });

  if (opts.controllerManager) {
    const kcmLog = createWriteStream(join(dir, "controller-manager.log"));
    const kcm = spawn(
      binary,
      [
        "controller-manager",
        `--kubeconfig=${kubeconfigPath}`,
        "--leader-elect=false",
        "--secure-port=0",
        // Everything but what needs nodes or volumes (there are none).
        "--controllers=*,-node-ipam-controller,-node-lifecycle-controller,-persistentvolume-binder-controller,-persistentvolume-attach-detach-controller,-persistentvolume-expander-controller,-ttl-controller",
        `--service-account-private-key-file=${join(dir, "sa.key")}`,
        `--root-ca-file=${caFile}`,
        "--use-service-account-credentials=false",
      ],
      { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, KUBE_TESTCLUSTER_EXIT_WITH_PARENT: "1" } },
    );
    kcm.stdout?.pipe(kcmLog);
    kcm.stderr?.pipe(kcmLog);
    procs.push(kcm);
    // A bad flag makes it exit at once; say so here rather than as a test timing out later.
    const early = await new Promise<number | null>((resolve) => {
      const t = setTimeout(() => resolve(null), 1500);
      kcm.once("exit", (code) => {
        clearTimeout(t);
        resolve(code ?? -1);
      });
    });
    if (early !== null) {
      const logTail = tail(join(dir, "controller-manager.log"));
      await stop();
      throw new Error(`kube-controller-manager exited with ${early}:\n${logTail}`);
    }
  }
  return { name, url, caPem, caFile, kubeconfigPath, adminToken, tokens, dir, pid: proc.pid ?? 0, stop };
}

/** A kubeconfig for one user with a static token. */
export function kubeconfig(
  cluster: string,
  server: string,
  caFile: string,
  user: string,
  token: string,
): string {
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    `- name: ${cluster}`,
    "  cluster:",
    `    server: ${server}`,
    `    certificate-authority: ${caFile}`,
    "users:",
    `- name: ${user}`,
    "  user:",
    `    token: ${token}`,
    "contexts:",
    `- name: ${cluster}`,
    "  context:",
    `    cluster: ${cluster}`,
    `    user: ${user}`,
    `current-context: ${cluster}`,
    "",
  ].join("\n");
}

async function waitReady(url: string, token: string, proc: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let exited: number | null = null;
  proc.once("exit", (code) => (exited = code ?? -1));
  const agent = new Agent({ rejectUnauthorized: false, keepAlive: false });
  while (Date.now() < deadline) {
    if (exited !== null)
      throw new Error(`kube-apiserver exited with ${exited} before ready:\n${tail(logFile)}`);
    const code = await probe(`${url}/readyz`, token, agent);
    if (code === 200) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`kube-apiserver at ${url} not ready after ${READY_TIMEOUT_MS / 1000}s:\n${tail(logFile)}`);
}

function probe(url: string, token: string, agent: Agent): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      url,
      { agent, headers: { authorization: `Bearer ${token}` }, timeout: 2000 },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on("error", () => resolve(0));
    req.on("timeout", () => req.destroy());
    req.end();
  });
}

function tail(file: string): string {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-30).join("\n");
  } catch {
    return "(no log)";
  }
}

function killAndWait(p: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (p.exitCode !== null || p.signalCode !== null) return resolve();
    const timer = setTimeout(() => p.kill("SIGKILL"), 5000);
    p.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    p.kill("SIGTERM");
  });
}
