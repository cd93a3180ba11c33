/**
 * `npm run test-clusters -- start N [--dir DIR] [--controller-manager]`: start N real clusters for
 * demos and manual checks, print where they are, and stop them all on Ctrl-C.
 */
import { parseArgs } from "node:util";
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { startClusters, type TestCluster } from "./clusters.js";

const USAGE = `usage: npm run test-clusters -- start N [--dir DIR] [--controller-manager]

Starts N real Kubernetes API servers (kube-apiserver v1.37.2 built from the Go module proxy, with an
embedded etcd) on free loopback ports, prints each one's name, URL and admin kubeconfig, and stops
them all on Ctrl-C. --dir keeps their data directories under DIR (default: a temporary directory,
removed on exit). --controller-manager also runs kube-controller-manager for each cluster.`;

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        dir: { type: "string" },
        "controller-manager": { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (e) {
    console.error(`error: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const n = Number(positionals[1] ?? "1");
  if (positionals[0] !== "start" || !Number.isInteger(n) || n < 1 || n > 20) {
    console.error(`error: expected "start N" with N from 1 to 20\n${USAGE}`);
    return 2;
  }
  const baseDir = values.dir ? resolve(values.dir) : undefined;
  if (baseDir) mkdirSync(baseDir, { recursive: true });
  console.log(`starting ${n} cluster(s)...`);
  const started = Date.now();
  const clusters: TestCluster[] = await startClusters(n, {
    controllerManager: values["controller-manager"],
    ...(baseDir ? { baseDir, keepDir: true } : {}),
  });
  console.log(`ready in ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
  for (const c of clusters) {
    console.log(
      `${c.name}\n  url:        ${c.url}\n  kubeconfig: ${c.kubeconfigPath}\n  try:        kubectl --kubeconfig ${c.kubeconfigPath} get ns\n`,
    );
  }
  console.log("press Ctrl-C to stop them all");
  await new Promise<void>((resolveStop) => {
    const stop = (): void => resolveStop();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  console.log("\nstopping...");
  await Promise.all(clusters.map((c) => c.stop()));
  return 0;
}

process.exitCode = await main();
