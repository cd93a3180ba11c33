/**
 * Fake nodes for a real test cluster: the upstream kwok (built from the Go module proxy) manages a Node,
 * moves pods bound to it to Running with kwok's own default stages, and serves the kubelet API the
 * kube-apiserver calls for exec, attach, logs and port-forward. Exec runs the command on this machine,
 * logs and attach read a file, port-forward connects to a local TCP port: real streams end to end.
 * The cluster must be started with KWOK_APISERVER_ARGS (the apiserver reaches the node by InternalIP).
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
// @ts-expect-error -- plain ESM script shared with the npm scripts; it has no type declarations.
import { ensureKwok, KWOK_STAGES_BINARY } from "../../scripts/ensure-kube.mjs";
import { ensureSelfSigned } from "../../src/server/tls.js";
import { freePort } from "./ports.js";
import type { TestCluster } from "./clusters.js";
import { kubectl } from "../e2e/kubectl.js";

export const KWOK_APISERVER_ARGS = ["--kubelet-preferred-address-types=InternalIP"];

export interface KwokOptions {
  /** File whose content is every container's log (and what attach shows). */
  logsFile: string;
  /** Local TCP port that port-forward to any pod port reaches (except 7777, which echoes with cat). */
  portForwardTarget: number;
}

export interface KwokNode {
  nodeName: string;
  stop(): Promise<void>;
}

export async function startKwok(cluster: TestCluster, opts: KwokOptions): Promise<KwokNode> {
  const binary: string = await ensureKwok({ quiet: true });
  const dir = join(cluster.dir, "kwok");
  mkdirSync(dir, { recursive: true });
  // kwok's kubelet endpoint serves TLS with these; the apiserver does not verify kubelet certificates
  // unless --kubelet-certificate-authority is set.
  await ensureSelfSigned(dir, "127.0.0.1", new Date());
  const port = await freePort();
  const stages = execFileSync(KWOK_STAGES_BINARY as string, { encoding: "utf8" });
  const config = [
    stages.trim(),
    [
      "apiVersion: config.kwok.x-k8s.io/v1alpha1",
      "kind: KwokConfiguration",
      "options:",
      "  enableCRDs: []",
      "  enableDebuggingHandlers: true",
      "  nodePlayStageParallelism: 2",
      "  podPlayStageParallelism: 2",
      "  nodeLeaseParallelism: 1",
      "  nodeLeaseDurationSeconds: 40",
      "  cidr: 10.0.0.0/24",
    ].join("\n"),
    [
      "apiVersion: kwok.x-k8s.io/v1alpha1",
      "kind: ClusterExec",
      "metadata:",
      "  name: local",
      "spec:",
      "  execs:",
      "  - local:",
      `      workDir: ${dir}`,
    ].join("\n"),
    [
      "apiVersion: kwok.x-k8s.io/v1alpha1",
      "kind: ClusterLogs",
      "metadata:",
      "  name: file",
      "spec:",
      "  logs:",
      `  - logsFile: ${opts.logsFile}`,
      "    follow: true",
    ].join("\n"),
    [
      "apiVersion: kwok.x-k8s.io/v1alpha1",
      "kind: ClusterAttach",
      "metadata:",
      "  name: file",
      "spec:",
      "  attaches:",
      `  - logsFile: ${opts.logsFile}`,
    ].join("\n"),
    [
      "apiVersion: kwok.x-k8s.io/v1alpha1",
      "kind: ClusterPortForward",
      "metadata:",
      "  name: local",
      "spec:",
      "  forwards:",
      "  - ports: [7777]",
      "    command: [cat]",
      "  - target:",
      `      port: ${opts.portForwardTarget}`,
      "      address: 127.0.0.1",
    ].join("\n"),
  ].join("\n---\n");
  const configFile = join(dir, "kwok.yaml");
  writeFileSync(configFile, config + "\n");
  const nodeName = "kwok-node-0";
  const log = createWriteStream(join(dir, "kwok.log"));
  const proc: ChildProcess = spawn(
    binary,
    [
      `--kubeconfig=${cluster.kubeconfigPath}`,
      `--config=${configFile}`,
      "--manage-all-nodes=true",
      "--node-ip=127.0.0.1",
      `--node-port=${port}`,
      `--server-address=127.0.0.1:${port}`,
      `--tls-cert-file=${join(dir, "tls", "serving.crt")}`,
      `--tls-private-key-file=${join(dir, "tls", "serving.key")}`,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  proc.stdout?.pipe(log);
  proc.stderr?.pipe(log);
  const node = JSON.stringify({
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: nodeName,
      labels: { "kubernetes.io/hostname": nodeName, type: "kwok" },
      annotations: { "kwok.x-k8s.io/node": "fake" },
    },
    spec: { taints: [] },
  });
  const created = await kubectl(["--kubeconfig", cluster.kubeconfigPath, "apply", "-f", "-"], {
    input: node,
  });
  if (created.code !== 0) throw new Error(`creating the kwok node failed: ${created.stderr}`);
  // Ready once kwok has initialised the node (addresses, kubelet endpoint, Ready condition).
  const deadline = Date.now() + 60_000;
  for (;;) {
    const r = await kubectl([
      "--kubeconfig",
      cluster.kubeconfigPath,
      "get",
      "node",
      nodeName,
      "-o",
      'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
    ]);
    if (r.stdout === "True") break;
    if (Date.now() > deadline || proc.exitCode !== null)
      throw new Error(`kwok node not ready (exit ${proc.exitCode}); see ${join(dir, "kwok.log")}`);
    await new Promise((res) => setTimeout(res, 300));
  }
  return {
    nodeName,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once("exit", () => resolve());
        proc.kill("SIGTERM");
        setTimeout(() => proc.kill("SIGKILL"), 5000).unref();
      }),
  };
}

/** A pod bound to the kwok node (no scheduler needed), waited on until Running. */
export async function runPod(
  cluster: TestCluster,
  nodeName: string,
  ns: string,
  name: string,
  containerPort = 8080,
): Promise<void> {
  const pod = JSON.stringify({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: ns },
    spec: { nodeName, containers: [{ name: "app", image: "fake", ports: [{ containerPort }] }] },
  });
  const r = await kubectl(["--kubeconfig", cluster.kubeconfigPath, "apply", "-f", "-"], { input: pod });
  if (r.code !== 0) throw new Error(`creating pod ${ns}/${name} failed: ${r.stderr}`);
  const w = await kubectl([
    "--kubeconfig",
    cluster.kubeconfigPath,
    "-n",
    ns,
    "wait",
    `pod/${name}`,
    "--for=condition=Ready",
    "--timeout=60s",
  ]);
  if (w.code !== 0) throw new Error(`pod ${ns}/${name} not ready: ${w.stderr}`);
}
