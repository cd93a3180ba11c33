/**
 * `gatehouse netpol check|matrix|lint`: a thin shell over src/core/netpol. Objects come from one
 * function, loadNetpolObjects: files (--objects), a kubeconfig context read directly
 * (--kubeconfig/--context), or a cluster through Gatehouse's gateway with your own rights (--cluster).
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import {
  KubeApiError,
  KubeClient,
  KubeconfigError,
  defaultKubeconfigPath,
  loadKubeconfig,
} from "../../clusters/index.js";
import { readNetpolObjects, servedGroupVersions, type ListFn } from "../../server/tenancy/live.js";
import { addServerOptions, GatehouseClient, type ServerFlags } from "../client.js";
import type { SourcedObject } from "../../core/k8s/index.js";
import {
  buildCluster,
  lint,
  matrixView,
  NetpolInputError,
  parseModel,
  parseProbes,
  runProbes,
  type Cluster,
  type MatrixView,
  type Protocol,
} from "../../core/netpol/index.js";
import { CliError, NegativeAnswer } from "../errors.js";
import { formatTable, readInput, readObjectPaths, type Output } from "../io.js";
import { outputOption } from "../program.js";

/** Where objects come from: files and folders, a kubeconfig context, or a cluster through Gatehouse. */
export interface NetpolObjectSource extends ServerFlags {
  readonly objects?: readonly string[];
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly cluster?: string;
}

export async function loadNetpolObjects(src: NetpolObjectSource): Promise<SourcedObject[]> {
  const live = src.kubeconfig !== undefined || src.context !== undefined;
  const given = [
    src.objects?.length ? "--objects" : "",
    live ? "--kubeconfig/--context" : "",
    src.cluster ? "--cluster" : "",
  ].filter((x) => x !== "");
  if (given.length === 0)
    throw new CliError(
      "--objects is required (files or folders of YAML or JSON), or read a live cluster: --kubeconfig/--context directly, or --cluster NAME through Gatehouse",
    );
  if (given.length > 1) throw new CliError(`use only one of ${given.join(", ")}`);
  if (src.objects?.length) return readObjectPaths(src.objects);
  if (src.cluster) return readThroughGatehouse(src, src.cluster);
  return readWithKubeconfig(src.kubeconfig ?? defaultKubeconfigPath(), src.context);
}

async function readWithKubeconfig(path: string, context: string | undefined): Promise<SourcedObject[]> {
  let conn;
  try {
    conn = loadKubeconfig(path, context);
  } catch (e) {
    if (e instanceof KubeconfigError) throw new CliError(e.message);
    throw e;
  }
  const kube = new KubeClient(conn, { timeoutMs: 30_000, userAgent: "gatehouse-netpol" });
  try {
    const list: ListFn = async (p) => (await kube.list<Record<string, unknown>>(p)).items;
    return await readNetpolObjects(
      list,
      `context ${conn.contextName}`,
      servedGroupVersions(await kube.getJSON("/apis")),
    );
  } catch (e) {
    if (e instanceof KubeApiError)
      throw new CliError(
        `reading context ${conn.contextName}: ${e.message}`,
        e.kind === "http" && (e.httpCode === 401 || e.httpCode === 403) ? 2 : 3,
      );
    throw e;
  } finally {
    kube.close();
  }
}

async function readThroughGatehouse(flags: ServerFlags, cluster: string): Promise<SourcedObject[]> {
  const gh = GatehouseClient.fromFlags(flags, () => readFileSync(0, "utf8"), process.env);
  const base = `/k8s/clusters/${encodeURIComponent(cluster)}`;
  const list: ListFn = async (p) => {
    const items: Record<string, unknown>[] = [];
    let cont = "";
    do {
      const q = `limit=500${cont ? `&continue=${encodeURIComponent(cont)}` : ""}`;
      const page = (await gh.call("GET", `${base}${p}?${q}`)).body as {
        items?: Record<string, unknown>[];
        metadata?: { continue?: string };
      };
      items.push(...(page.items ?? []));
      cont = page.metadata?.continue ?? "";
    } while (cont !== "");
    return items;
  };
  const served = servedGroupVersions((await gh.call("GET", `${base}/apis`)).body);
  return readNetpolObjects(list, `cluster ${cluster}`, served);
}

/** Objects → cluster; invalid objects become one usage error (exit 2) naming every file and document. */
async function loadCluster(src: NetpolObjectSource): Promise<Cluster> {
  const objects = await loadNetpolObjects(src);
  return inputErrors(() => buildCluster(parseModel(objects)));
}

function inputErrors<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof NetpolInputError) throw new CliError(e.message);
    throw e;
  }
}

function parseProtocol(v: string | undefined): Protocol | undefined {
  if (v === undefined) return undefined;
  const p = v.toUpperCase();
  if (p === "TCP" || p === "UDP" || p === "SCTP") return p;
  throw new CliError(`--protocol must be TCP, UDP or SCTP, not ${JSON.stringify(v)}`);
}

function parsePort(v: string | undefined): number | string | undefined {
  if (v === undefined) return undefined;
  if (/^\d+$/.test(v)) {
    const n = Number(v);
    if (n < 1 || n > 65535) throw new CliError(`--port must be from 1 to 65535, not ${v}`);
    return n;
  }
  if (v.trim() === "") throw new CliError("--port must be a number or a port name");
  return v;
}

const objectsOption = [
  "--objects <path...>",
  "files or folders of YAML/JSON with Namespaces, Pods and policies",
] as const;

/** --objects, or a live cluster: --kubeconfig/--context directly, --cluster through Gatehouse. */
function sourceOptions(cmd: Command): Command {
  return addServerOptions(
    cmd
      .option(...objectsOption)
      .option(
        "--kubeconfig <file>",
        "read the objects live from this kubeconfig's cluster (default context: its current one)",
      )
      .option(
        "--context <name>",
        "kubeconfig context to read live (with --kubeconfig, or $KUBECONFIG / ~/.kube/config)",
      )
      .option(
        "--cluster <name>",
        "read the objects live from this cluster through Gatehouse, with your own rights",
      ),
  );
}

export function registerNetpol(program: Command, output: Output): void {
  const netpol = program
    .command("netpol")
    .description(
      "Simulate NetworkPolicy and the admin network policies: probes, a reachability matrix, lint",
    );

  sourceOptions(netpol.command("check"))
    .description(
      'Answer probes, one JSON object per line: {"from": "NS/POD", "to": "NS/POD", "port": 80, "protocol": "TCP"}.\n' +
        "port may be a container port name; from or to may be ip:ADDRESS. Prints one JSON object per probe, in order.",
    )
    .option("--probes <file>", "JSON-lines probes (default: standard input)")
    .action(async (opts: NetpolObjectSource & { probes?: string }) => {
      const cluster = await loadCluster(opts);
      const { text, name } = readInput(opts.probes);
      const results = inputErrors(() => runProbes(cluster, parseProbes(text, name), name));
      output.out(results.map((r) => JSON.stringify(r) + "\n").join(""));
    });

  sourceOptions(netpol.command("matrix"))
    .description(
      "Print the reachability truth table, sources as rows and destinations as columns (. allowed, X blocked)",
    )
    .option("--port <port>", "port number or container port name (default: any port)")
    .option("--protocol <protocol>", "TCP, UDP or SCTP (default: TCP with --port, else all)")
    .addOption(outputOption(["table", "json"], "table"))
    .action(async (opts: NetpolObjectSource & { port?: string; protocol?: string; output: string }) => {
      const port = parsePort(opts.port);
      const protocol = parseProtocol(opts.protocol);
      const cluster = await loadCluster(opts);
      const view = matrixView(cluster, {
        ...(port !== undefined ? { port } : {}),
        ...(protocol !== undefined ? { protocol } : {}),
      });
      output.out(opts.output === "json" ? JSON.stringify(viewJson(view)) + "\n" : renderMatrix(view));
    });

  sourceOptions(netpol.command("lint"))
    .description(
      "Flag common mistakes: policies selecting nothing, DNS blocked by egress policies, defaulted or ignored policyTypes, isolation that blocks or allows everything. Exits 1 on warnings",
    )
    .addOption(outputOption(["table", "json"], "table"))
    .action(async (opts: NetpolObjectSource & { output: string }) => {
      const findings = lint(await loadCluster(opts));
      if (opts.output === "json")
        output.out(
          JSON.stringify(
            findings.map(({ source, ...f }) => ({
              ...f,
              ...(source ? { file: source.file, document: source.document } : {}),
            })),
          ) + "\n",
        );
      else if (findings.length === 0) output.out("no findings\n");
      else
        output.out(
          formatTable(
            ["SEVERITY", "CODE", "OBJECT", "MESSAGE"],
            findings.map((f) => [f.severity, f.code, f.object, f.message]),
          ),
        );
      if (findings.some((f) => f.severity === "warning")) throw new NegativeAnswer();
    });
}

function viewJson(v: MatrixView): unknown {
  return { title: v.title, pods: v.pods, allowed: v.allowed, stats: v.stats };
}

/** cyclonus-style: a header row of destinations, one row per source; "." allowed, "X" blocked. */
export function renderMatrix(v: MatrixView): string {
  const cell = (b: boolean | null): string => (b === null ? "-" : b ? "." : "X");
  const table = formatTable(
    [v.title, ...v.pods],
    v.pods.map((from, i) => [from, ...(v.allowed[i] ?? []).map(cell)]),
  );
  const legend = v.allowed.some((r) => r.includes(null))
    ? ". allowed   X blocked   - no such port\n"
    : ". allowed   X blocked\n";
  return table + legend;
}
