/**
 * The gateway's cost, side by side in one run against one real kube-apiserver: direct versus through
 * Gatehouse (a separate `gatehouse serve` process, so its CPU and memory are its own).
 *   - added latency p50/p99: small GET, LIST of 5,000 ConfigMaps, watch event delivery
 *   - Gatehouse CPU time per proxied small GET (from /proc/PID/stat)
 *   - Gatehouse memory per open watch (RSS growth over N concurrent watches)
 * Run: npx tsx bench/gateway.ts [--watches 2000]
 */
import { Agent, request } from "node:https";
import { readFileSync } from "node:fs";
import { mkdtempSync, readdirSync, statSync, writeFileSync } from "node:fs";
import http2 from "node:http2";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startClusters } from "../test/harness/clusters.js";
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { writeSection } from "./results.js";
import { readHeapSnapshot } from "./heap-snapshot.js";

const { values } = parseArgs({
  options: {
    watches: { type: "string", default: "2000" },
    gets: { type: "string", default: "2000" },
    /** Write the figures into bench/RESULTS.md (otherwise only print them). */
    write: { type: "boolean", default: false },
    /** Skip the LIST and watch parts (for profiling the small GET). */
    quick: { type: "boolean", default: false },
    /** Run Gatehouse under `node --cpu-prof --cpu-prof-dir=DIR` (written when it exits). */
    "cpu-prof": { type: "string" },
    /** Write a heap snapshot of Gatehouse into DIR at each memory step (node --heapsnapshot-signal). */
    "heap-snapshot": { type: "string" },
    /** Another build of the CLI to measure (default: dist/src/cli/main.js). */
    main: { type: "string" },
    /** More `gatehouse serve` flags, e.g. --serve-arg=--audit-policy-file=none.yaml (repeatable). */
    "serve-arg": { type: "string", multiple: true, default: [] },
  },
});
/** Open watches at which memory is measured, in one run: "2000,10000". */
const WATCH_STEPS = values.watches.split(",").map(Number);
if (values["heap-snapshot"] && values.write) {
  console.error(
    "--heap-snapshot raises Gatehouse's RSS (the snapshot's own memory): it cannot go with --write",
  );
  process.exit(2);
}
const GETS = Number(values.gets);

interface Target {
  base: string;
  agent: Agent;
  auth: string;
}

function send(
  t: Target,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      `${t.base}${path}`,
      {
        method,
        agent: t.agent,
        headers: {
          authorization: t.auth,
          accept: "application/json",
          ...(payload ? { "content-type": "application/json" } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
}

/** utime and stime of a process, ms (from clock ticks, 100/s). */
function cpuTimes(pid: number): { user: number; sys: number } {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return { user: Number(f[11]) * 10, sys: Number(f[12]) * 10 };
}

function rssMiB(pid: number): number {
  const m = readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+) kB/);
  return Number(m?.[1]) / 1024;
}

async function timed(t: Target, path: string, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = await send(t, "GET", path);
    out.push(performance.now() - t0);
    if (r.status !== 200) throw new Error(`${path}: ${r.status} ${r.body.slice(0, 200)}`);
  }
  return out;
}

/** `gatehouse serve` as its own process (node flags such as --cpu-prof cannot go in NODE_OPTIONS). */
function startServe(
  nodeArgs: string[],
): Promise<{ child: ChildProcess; stderr: () => string; match: RegExpMatchArray }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, nodeArgs, { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stdout?.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-20_000)));
    child.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
      const m = stderr.match(/serving on (https:\/\/\S+) \(CA certificate: (\S+)\)/);
      if (m) resolve({ child, stderr: () => stderr, match: m });
    });
    child.once("exit", (code) => reject(new Error(`gatehouse exited with ${code}:\n${stderr}`)));
  });
}

const [cluster] = await startClusters(1, {
  extraArgs: ["--max-requests-inflight=2000", "--max-mutating-requests-inflight=1000"],
});
if (!cluster) throw new Error("no cluster");
const dir = mkdtempSync(join(tmpdir(), "gatehouse-bench-"));
const gh = await startServe([
  ...(values["cpu-prof"] ? ["--cpu-prof", `--cpu-prof-dir=${values["cpu-prof"]}`] : []),
  ...(values["heap-snapshot"]
    ? ["--heapsnapshot-signal=SIGUSR2", `--diagnostic-dir=${values["heap-snapshot"]}`]
    : []),
  values.main ?? fileURLToPath(new URL("../dist/src/cli/main.js", import.meta.url)),
  ...["serve", "--listen", "127.0.0.1:0", "--data-dir", dir, "--log-level", "warn"],
  ...(values["serve-arg"] ?? []),
]);
const ghUrl = gh.match[1] as string;
process.on("uncaughtException", (e) => {
  console.error(e, "\nGatehouse stderr (tail):\n", gh.stderr().slice(-3000));
  gh.child.kill();
  process.exit(1);
});
const ghCa = readFileSync(gh.match[2] as string);
const password = (gh.stderr().match(/keep it safe:\s+(\S+)/) as RegExpMatchArray)[1] as string;
const ghPid = gh.child.pid as number;
const admin: Target = {
  base: ghUrl,
  agent: new Agent({ ca: ghCa, keepAlive: true }),
  auth: `Basic ${Buffer.from(`admin:${password}`).toString("base64")}`,
};
const GV = "/apis/gatehouse.io/v1alpha1";
const must = async (p: Promise<{ status: number; body: string }>): Promise<string> => {
  const r = await p;
  if (r.status >= 300) throw new Error(`${r.status} ${r.body}`);
  return r.body;
};
await must(
  send(admin, "POST", `${GV}/clusters`, {
    apiVersion: "gatehouse.io/v1alpha1",
    kind: "Cluster",
    metadata: { name: "bench" },
    spec: {
      server: cluster.url,
      caData: Buffer.from(cluster.caPem).toString("base64"),
      credentials: { token: cluster.adminToken },
    },
  }),
);
await must(
  send(admin, "POST", `${GV}/users`, {
    apiVersion: "gatehouse.io/v1alpha1",
    kind: "User",
    metadata: { name: "bencher" },
    spec: {},
  }),
);
const key = JSON.parse(
  await must(
    send(admin, "POST", `${GV}/accesskeys`, {
      apiVersion: "gatehouse.io/v1alpha1",
      kind: "AccessKey",
      metadata: { name: "bench-key" },
      spec: { user: "bencher" },
    }),
  ),
);
await must(
  send(admin, "POST", `${GV}/accessbindings`, {
    apiVersion: "gatehouse.io/v1alpha1",
    kind: "AccessBinding",
    metadata: { name: "bench-admin" },
    spec: {
      subjects: [{ kind: "User", name: "bencher" }],
      roleRef: { name: "cluster-admin" },
      clusters: { names: ["bench"] },
    },
  }),
);
const direct: Target = {
  base: cluster.url,
  agent: new Agent({ ca: cluster.caPem, keepAlive: true, maxSockets: 50_000 }),
  auth: `Bearer ${cluster.adminToken}`,
};
const via: Target = {
  base: `${ghUrl}/k8s/clusters/bench`,
  agent: new Agent({ ca: ghCa, keepAlive: true, maxSockets: 50_000 }),
  auth: `Bearer ${key.status.token}`,
};
// Wait until the RBAC sync has reached the cluster (the impersonated user needs it there too).
for (let i = 0; ; i++) {
  if ((await send(via, "GET", "/api/v1/namespaces/default")).status === 200) break;
  if (i > 100) throw new Error("gateway never allowed the bench user");
  await new Promise((r) => setTimeout(r, 300));
}

// The floor: a bare Node.js https proxy (keep-alive pool, no authentication, authorization, audit or
// header rewriting) in its own process, on the same machine in the same run. Gatehouse's own cost is
// what it adds on top of this.
const FLOOR_PROXY = `
const https = require("node:https"); const fs = require("node:fs");
const [upstream, caFile, token, certFile, keyFile] = process.argv.slice(1);
const u = new URL(upstream);
const agent = new https.Agent({ keepAlive: true, ca: fs.readFileSync(caFile) });
const srv = https.createServer({ cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile) }, (req, res) => {
  const up = https.request({ hostname: u.hostname, port: u.port, method: req.method, path: req.url, agent,
    headers: { ...req.headers, host: u.host, authorization: "Bearer " + token } }, (r) => {
    res.writeHead(r.statusCode, r.headers); r.pipe(res); });
  req.pipe(up);
});
srv.listen(0, "127.0.0.1", () => process.stdout.write("port " + srv.address().port + "\\n"));`;
const caFile = join(dir, "cluster-ca.pem");
writeFileSync(caFile, cluster.caPem);
const floorChild = spawn(
  process.execPath,
  [
    "-e",
    FLOOR_PROXY,
    cluster.url,
    caFile,
    cluster.adminToken,
    join(dir, "tls", "serving.crt"),
    join(dir, "tls", "serving.key"),
  ],
  { stdio: ["ignore", "pipe", "inherit"] },
);
const floorPort = await new Promise<string>((resolve) =>
  floorChild.stdout?.on("data", (d: Buffer) => {
    const m = /port (\d+)/.exec(d.toString());
    if (m) resolve(m[1] as string);
  }),
);
const floor: Target = {
  base: `https://127.0.0.1:${floorPort}`,
  agent: new Agent({ ca: ghCa, keepAlive: true, servername: "localhost" }),
  auth: "",
};

// The absolute floor: a bare Node.js https server answering every request itself with a small JSON
// body (no upstream at all), and holding `?watch=1` requests open (headers and one line) as a watch
// does. What Node's HTTP and TLS cost per request and per open connection on this machine.
const HELLO = `
const https = require("node:https"); const fs = require("node:fs");
const [certFile, keyFile] = process.argv.slice(1);
const body = JSON.stringify({ kind: "Namespace", apiVersion: "v1", metadata: { name: "default" } });
const srv = https.createServer({ cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile) }, (req, res) => {
  if (req.url.includes("watch=1")) {
    res.writeHead(200, { "content-type": "application/json" }); res.flushHeaders();
    res.write('{"type":"BOOKMARK","object":{"metadata":{"name":""}}}\\n'); return;
  }
  res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
});
srv.listen(0, "127.0.0.1", () => process.stdout.write("port " + srv.address().port + "\\n"));`;
const helloChild = spawn(
  process.execPath,
  ["-e", HELLO, join(dir, "tls", "serving.crt"), join(dir, "tls", "serving.key")],
  { stdio: ["ignore", "pipe", "inherit"] },
);
const helloPort = await new Promise<string>((resolve) =>
  helloChild.stdout?.on("data", (d: Buffer) => {
    const m = /port (\d+)/.exec(d.toString());
    if (m) resolve(m[1] as string);
  }),
);
const hello: Target = {
  base: `https://127.0.0.1:${helloPort}`,
  agent: new Agent({ ca: ghCa, keepAlive: true, servername: "localhost", maxSockets: 50_000 }),
  auth: "",
};

/** Small GETs over one HTTP/2 connection (what kubectl does when the server offers h2). */
async function timedH2(
  base: string,
  ca: string | Buffer,
  auth: string,
  path: string,
  n: number,
): Promise<number[]> {
  const session = http2.connect(base, { ca });
  const out: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const status = await new Promise<number>((resolve, reject) => {
        const st = session.request({ ":path": path, authorization: auth, accept: "application/json" });
        let code = 0;
        st.on("response", (h) => (code = Number(h[":status"])));
        let body = "";
        st.on("data", (d: Buffer) => (body += d.toString()));
        st.on("end", () => {
          if (code !== 200) console.error(body.slice(0, 500));
          resolve(code);
        });
        st.on("error", reject);
        st.end();
      });
      out.push(performance.now() - t0);
      if (status !== 200) throw new Error(`h2 ${path}: ${status}`);
    }
  } finally {
    session.close();
  }
  return out;
}

/** The 1/5/15-minute load averages: the machine is shared, figures vary with them. */
function loadAverage(): string {
  return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" / ");
}
const loadAtGets = loadAverage();
console.log("small GET ...");
await timed(direct, "/api/v1/namespaces/default", 200);
await timed(via, "/api/v1/namespaces/default", 200);
await timed(floor, "/api/v1/namespaces/default", 200);
await timed(hello, "/api/v1/namespaces/default", 200);
const getFloor: number[] = [];
let floorCpuMs = 0;
const getHello: number[] = [];
let helloCpuMs = 0;
const getDirect: number[] = [];
const getVia: number[] = [];
// Gatehouse CPU is counted only while requests go through it (not while the direct ones run).
let userMs = 0;
let sysMs = 0;
for (let i = 0; i < GETS / 100; i++) {
  getDirect.push(...(await timed(direct, "/api/v1/namespaces/default", 100)));
  const before = cpuTimes(ghPid);
  getVia.push(...(await timed(via, "/api/v1/namespaces/default", 100)));
  const after = cpuTimes(ghPid);
  userMs += after.user - before.user;
  sysMs += after.sys - before.sys;
  const f0 = cpuTimes(floorChild.pid as number);
  getFloor.push(...(await timed(floor, "/api/v1/namespaces/default", 100)));
  const f1 = cpuTimes(floorChild.pid as number);
  floorCpuMs += f1.user + f1.sys - f0.user - f0.sys;
  const h0 = cpuTimes(helloChild.pid as number);
  getHello.push(...(await timed(hello, "/api/v1/namespaces/default", 100)));
  const h1 = cpuTimes(helloChild.pid as number);
  helloCpuMs += h1.user + h1.sys - h0.user - h0.sys;
}
floorChild.kill();
const floorCpuPerGet = (floorCpuMs * 1000) / GETS;
const helloCpuPerGet = (helloCpuMs * 1000) / GETS;

console.log("small GET over HTTP/2 ...");
const h2Direct: number[] = [];
const h2Via: number[] = [];
let h2CpuMs = 0;
const ghUrlBase = ghUrl;
await timedH2(ghUrlBase, ghCa, via.auth, "/k8s/clusters/bench/api/v1/namespaces/default", 100);
for (let i = 0; i < GETS / 100; i++) {
  h2Direct.push(
    ...(await timedH2(cluster.url, cluster.caPem, direct.auth, "/api/v1/namespaces/default", 100)),
  );
  const before = cpuTimes(ghPid);
  h2Via.push(
    ...(await timedH2(ghUrlBase, ghCa, via.auth, "/k8s/clusters/bench/api/v1/namespaces/default", 100)),
  );
  const after = cpuTimes(ghPid);
  h2CpuMs += after.user + after.sys - before.user - before.sys;
}
const h2CpuPerGet = (h2CpuMs * 1000) / GETS;
const cpuPerGet = ((userMs + sysMs) * 1000) / GETS; // µs

const listDirect: number[] = [];
const listVia: number[] = [];
const watchDirect: number[] = [];
const watchVia: number[] = [];
let rssBefore = NaN;
const memorySteps: {
  watches: number;
  rssMiB: number;
  perWatchKB: number;
  heapPerWatchKB: number;
  /** From heap snapshots (after a full GC) before and at this step: what the watches keep alive. */
  liveHeapPerWatchKB: number;
}[] = [];
/** Gatehouse's JS heap in use, MiB, from its own /metrics (the rest of RSS is native: TLS, HTTP/2, buffers). */
async function heapUsedMiB(): Promise<number> {
  const text = await must(send(admin, "GET", "/metrics"));
  const m = /^gatehouse_nodejs_heap_size_used_bytes (\S+)$/m.exec(text);
  return Number(m?.[1]) / 1024 / 1024;
}
/**
 * Signal Gatehouse to write a heap snapshot (after a full GC), wait until the file is complete, and
 * return the self size of everything in it, bytes.
 */
async function heapSnapshot(dir: string): Promise<number> {
  const before = new Set(readdirSync(dir));
  process.kill(ghPid, "SIGUSR2");
  for (let size = -1; ;) {
    await new Promise((r) => setTimeout(r, 2000));
    const file = readdirSync(dir).find((f) => f.endsWith(".heapsnapshot") && !before.has(f));
    if (!file) continue;
    const now = statSync(join(dir, file)).size;
    if (now > 0 && now === size) {
      console.log(`  heap snapshot: ${join(dir, file)}`);
      return readHeapSnapshot(join(dir, file)).total;
    }
    size = now;
  }
}
const memoryFloor: { watches: number; rssMiB: number; perWatchKB: number }[] = [];
if (!values.quick) {
  console.log("LIST of 5,000 ConfigMaps ...");
  await send(direct, "POST", "/api/v1/namespaces", {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: "bench" },
  });
  for (let i = 0; i < 5000; i += 50) {
    await Promise.all(
      Array.from({ length: 50 }, (_, j) =>
        send(direct, "POST", "/api/v1/namespaces/bench/configmaps", {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name: `cm-${i + j}` },
          data: { k: "v".repeat(100) },
        }),
      ),
    );
  }
  for (let i = 0; i < 20; i++) {
    listDirect.push(...(await timed(direct, "/api/v1/namespaces/bench/configmaps", 1)));
    listVia.push(...(await timed(via, "/api/v1/namespaces/bench/configmaps", 1)));
  }

  console.log("watch event delivery ...");
  function openWatch(t: Target, onEvent: (name: string) => void): Promise<() => void> {
    return new Promise((resolve, reject) => {
      const req = request(
        `${t.base}/api/v1/namespaces/default/configmaps?watch=1&allowWatchBookmarks=true`,
        { agent: t.agent, headers: { authorization: t.auth } },
        (res) => {
          let buf = "";
          res.on("data", (c: Buffer) => {
            buf += c.toString();
            let nl;
            while ((nl = buf.indexOf("\n")) >= 0) {
              const line = buf.slice(0, nl);
              buf = buf.slice(nl + 1);
              const ev = JSON.parse(line) as { type: string; object: { metadata: { name: string } } };
              if (ev.type === "ADDED") onEvent(ev.object.metadata.name);
            }
          });
          resolve(() => req.destroy());
        },
      );
      req.on("error", reject);
      req.end();
    });
  }
  const seenDirect = new Map<string, number>();
  const seenVia = new Map<string, number>();
  const closeD = await openWatch(direct, (n) => seenDirect.set(n, performance.now()));
  const closeV = await openWatch(via, (n) => seenVia.set(n, performance.now()));
  await new Promise((r) => setTimeout(r, 500));
  for (let i = 0; i < 200; i++) {
    const name = `w-${i}`;
    const t0 = performance.now();
    await send(direct, "POST", "/api/v1/namespaces/default/configmaps", {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name },
    });
    const deadline = Date.now() + 5000;
    while ((!seenDirect.has(name) || !seenVia.has(name)) && Date.now() < deadline)
      await new Promise((r) => setImmediate(r));
    watchDirect.push((seenDirect.get(name) ?? NaN) - t0);
    watchVia.push((seenVia.get(name) ?? NaN) - t0);
  }
  closeD();
  closeV();

  console.log(`memory with ${values.watches} concurrent watches ...`);
  await new Promise((r) => setTimeout(r, 1000));
  rssBefore = rssMiB(ghPid);
  const heapBefore = await heapUsedMiB();
  const liveBefore = values["heap-snapshot"] ? await heapSnapshot(values["heap-snapshot"]) : NaN;
  const closers: (() => void)[] = [];
  for (const step of WATCH_STEPS) {
    while (closers.length < step) {
      closers.push(
        ...(await Promise.all(
          Array.from({ length: Math.min(100, step - closers.length) }, () => openWatch(via, () => undefined)),
        )),
      );
    }
    await new Promise((r) => setTimeout(r, 3000));
    const rssAfter = rssMiB(ghPid);
    const perWatchKB = ((rssAfter - rssBefore) * 1024) / step;
    const heapPerWatchKB = (((await heapUsedMiB()) - heapBefore) * 1024) / step;
    const liveHeapPerWatchKB = values["heap-snapshot"]
      ? ((await heapSnapshot(values["heap-snapshot"])) - liveBefore) / 1024 / step
      : NaN;
    memorySteps.push({ watches: step, rssMiB: rssAfter, perWatchKB, heapPerWatchKB, liveHeapPerWatchKB });
    console.log(`  ${step} watches: RSS ${rssAfter.toFixed(0)} MiB, ${perWatchKB.toFixed(1)} KB each`);
  }
  for (const c of closers) c();

  // The floor for memory: the bare https server holding as many open streaming responses.
  console.log(`memory floor: a bare Node.js https server holding ${values.watches} open responses ...`);
  const helloBefore = rssMiB(helloChild.pid as number);
  const helloClosers: (() => void)[] = [];
  for (const step of WATCH_STEPS) {
    while (helloClosers.length < step) {
      helloClosers.push(
        ...(await Promise.all(
          Array.from({ length: Math.min(100, step - helloClosers.length) }, () =>
            openWatch(hello, () => undefined),
          ),
        )),
      );
    }
    await new Promise((r) => setTimeout(r, 3000));
    const rss = rssMiB(helloChild.pid as number);
    const perWatchKB = ((rss - helloBefore) * 1024) / step;
    memoryFloor.push({ watches: step, rssMiB: rss, perWatchKB });
    console.log(`  ${step} open responses: RSS ${rss.toFixed(0)} MiB, ${perWatchKB.toFixed(1)} KB each`);
  }
  for (const c of helloClosers) c();
}
helloChild.kill();

const f = (x: number): string => `${x.toFixed(2)} ms`;
const row = (name: string, d: number[], v: number[]): string =>
  `| ${name} | ${f(pct(d, 50))} / ${f(pct(d, 99))} | ${f(pct(v, 50))} / ${f(pct(v, 99))} | ${f(pct(v, 50) - pct(d, 50))} / ${f(pct(v, 99) - pct(d, 99))} |`;
const table = [
  "| request | direct p50 / p99 | through Gatehouse p50 / p99 | added p50 / p99 |",
  "|---|---|---|---|",
  row(`small GET (${GETS} sequential, keep-alive)`, getDirect, getVia),
  row(`small GET, bare Node.js https proxy instead of Gatehouse (floor)`, getDirect, getFloor),
  row(`small GET answered by a bare Node.js https server, no upstream (absolute floor)`, getDirect, getHello),
  row(`small GET over HTTP/2 (${GETS} sequential, one connection)`, h2Direct, h2Via),
  row("LIST of 5,000 ConfigMaps (20 each)", listDirect, listVia),
  row("watch event delivery (200 events, POST sent → event read)", watchDirect, watchVia),
].join("\n");
const md = `## Gateway overhead (issue: multi-cluster API gateway)

Command: \`npx tsx bench/gateway.ts --watches ${values.watches} --gets ${GETS} --write\` (measured ${new Date().toISOString().slice(0, 16)}Z; 2 shared cores;
one real kube-apiserver v1.37.2; Gatehouse as a separate \`gatehouse serve\` process on SQLite, central RBAC + impersonation on every request).

${table}

- Gatehouse CPU per proxied small GET: **${cpuPerGet.toFixed(0)} µs** (utime+stime of the Gatehouse process while ${GETS} requests went through it, of which ${((sysMs * 1000) / GETS).toFixed(0)} µs in the kernel; aim < 150 µs).
  Over HTTP/2: **${h2CpuPerGet.toFixed(0)} µs**. The floor on this machine, a bare Node.js https proxy doing nothing but
  forwarding (same requests, its own process): **${floorCpuPerGet.toFixed(0)} µs**; Gatehouse's own work (authentication,
  central authorization, header rewriting, audit, metrics) is the difference. A bare Node.js https server answering the
  same GETs itself, with no upstream at all (absolute floor): **${helloCpuPerGet.toFixed(0)} µs**.
  Machine load (1/5/15-minute load average) when the GETs started: ${loadAtGets}; at the end of the run: ${loadAverage()}.
- Gatehouse memory per open watch (RSS growth ÷ watches, each watch its own client TLS connection; upstream they share
  pooled HTTP/2 sessions): ${memorySteps.map((m) => `**${m.perWatchKB.toFixed(1)} KB** with ${m.watches.toLocaleString("en")} watches (RSS ${rssBefore.toFixed(0)} → ${m.rssMiB.toFixed(0)} MiB; JS heap in use grew ${m.heapPerWatchKB.toFixed(1)} KB per watch without a forced GC${Number.isNaN(m.liveHeapPerWatchKB) ? "" : `, JS objects kept alive ${m.liveHeapPerWatchKB.toFixed(1)} KB per watch by heap snapshots`})`).join(", ")}; aim < 50 KB.
  The floor, the bare Node.js https server holding as many open streaming responses (one TLS connection each, no
  upstream): ${memoryFloor.map((m) => `**${m.perWatchKB.toFixed(1)} KB** with ${m.watches.toLocaleString("en")}`).join(", ")}.
- Aim for added small-GET latency: < 1 ms at p50.

What the figures say (the machine is 2 shared vCPUs that other work loads heavily, so absolute CPU figures move
by ±30 % between runs; the ratios to the floors measured in the same rounds are steadier):
- **CPU: the 150 µs aim is below what Node.js itself costs here.** A bare Node.js https server with no upstream
  at all used ${helloCpuPerGet.toFixed(0)} µs per GET in this run (75-90 µs on a quiet machine), and a bare proxy
  ${floorCpuPerGet.toFixed(0)} µs (≈ 300 µs on a quiet machine against a trivial upstream; more here because the
  kube-apiserver's answers are larger and it competes for the same two cores). Both legs keep their connections and
  TLS sessions (a copy of the floor proxy that counted them saw one upstream and one client TLS handshake for
  2,300 requests): no handshake per request hides in these figures.
  Gatehouse is **${(cpuPerGet / floorCpuPerGet).toFixed(1)}×** the bare proxy. What it adds, from \`--cpu-prof\`
  profiles: audit (two events per request at the default Metadata level: building, serialising, hashing, the
  SQLite group commit; a run with an audit policy of \`None\` used ≈ 650 µs less per request, 2026-11-28), the
  header rewrite, central authorization and metrics (tens of µs each). Authentication no longer reads the store per
  request: access-key and token-user answers are cached under a change stamp (docs/identity.md, "Authentication
  cache"). Before and after, alternated on a quieter machine (load ≈ 2; \`--quick --gets 1000\`, the previous
  commit's build via \`--main\`, 2026-11-29 00:00Z): HTTP/1.1 2,360 / 2,530 → 2,010 / 1,850 µs per GET, added p50
  +1.57 / +1.73 → +1.38 / +1.37 ms; HTTP/2 2,150 / 2,300 → 2,240 / 2,110 µs (no clear change, not explained: the
  "after" tree also held other work in progress); floor 870-950 µs.
- **LIST of 5,000 ConfigMaps: the +26 to +52 ms of earlier runs was Nagle's algorithm.** Node's HTTP/2 server does
  not set TCP_NODELAY on the HTTP/1.1 connections it accepts (https.createServer does), and an https.Agent does not
  on the sockets it opens, so the last segment of a large answer waited for the peer's delayed ACK (40 ms).
  Gatehouse now sets it on every connection (test/e2e/gateway-nodelay.test.ts reads the kernel's flag). Before
  and after, alternated on the same machine (\`--gets 300 --watches 100\`, the previous build via \`--main\`,
  2026-11-29): +48.2 / +40.2 ms → +5.6 / +7.7 ms added p50.
- **Memory: the floor is most of the aim.** RSS per watch moves between runs (2,000 watches, same build, same
  day: 51.9 KB at 05:27Z, 61.0 KB at 05:40Z): RSS growth also holds what the allocator has not given back
  after opening the watches. One client TLS connection holding a streaming response costs a bare
  Node.js server ${memoryFloor.map((m) => `${m.perWatchKB.toFixed(0)} KB`).join(" / ")}; an HTTP/2 stream to the cluster
  adds ≈ 10 KB more in a bare client (measured apart: 22 KB per stream for both ends in one process). The JS
  objects a watch keeps alive, from heap snapshots after a full GC: **19.5 KB** with 2,000 and **19.6 KB** with
  10,000 watches (\`npx tsx bench/gateway.ts --watches 2000,10000 --heap-snapshot DIR\`, 2026-11-29T05:31Z; a
  snapshot itself raises RSS, so such a run does not write its figures; \`bench/heap-summary.ts BEFORE AFTER
  --per N\` lists them by constructor). Most are Node's own: the client's TLSSocket, Socket, TLSWrap,
  IncomingMessage, ServerResponse and their stream states and listener wrappers, the HTTP/2 stream to the cluster
  and its headers. Gatehouse's are the request context, the audit filter's closures and plan (kept for
  ResponseComplete) and the forwarding closures. A pino child logger per proxied request is no longer made unless
  something is logged (about 1 KB a watch: 20.5 → 19.5 KB, 2026-11-29). The rest of RSS is native: OpenSSL,
  nghttp2, socket buffers and the allocator.`;
console.log(md);
if (values.write) writeSection("gateway", md);
gh.child.kill("SIGTERM");
await new Promise((r) => gh.child.once("exit", r));
await cluster.stop();
process.exit(0);
