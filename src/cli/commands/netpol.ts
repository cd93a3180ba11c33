/**
 * `gatehouse netpol check|matrix|lint`: a thin shell over src/core/netpol. Objects come from one
 * function, loadNetpolObjects, so live reads (--kubeconfig/--context/--cluster) can be added there
 * without touching the commands.
 */
import type { Command } from "commander";
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

/** Where objects come from. Today: files and folders; the lead adds live cluster options here. */
export interface NetpolObjectSource {
  readonly objects?: readonly string[];
}

export function loadNetpolObjects(src: NetpolObjectSource): SourcedObject[] {
  if (src.objects === undefined || src.objects.length === 0)
    throw new CliError("--objects is required: files or folders of YAML or JSON");
  return readObjectPaths(src.objects);
}

/** Objects → cluster; invalid objects become one usage error (exit 2) naming every file and document. */
function loadCluster(src: NetpolObjectSource): Cluster {
  return inputErrors(() => buildCluster(parseModel(loadNetpolObjects(src))));
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

export function registerNetpol(program: Command, output: Output): void {
  const netpol = program
    .command("netpol")
    .description(
      "Simulate NetworkPolicy and the admin network policies: probes, a reachability matrix, lint",
    );

  netpol
    .command("check")
    .description(
      'Answer probes, one JSON object per line: {"from": "NS/POD", "to": "NS/POD", "port": 80, "protocol": "TCP"}.\n' +
        "port may be a container port name; from or to may be ip:ADDRESS. Prints one JSON object per probe, in order.",
    )
    .option(...objectsOption)
    .option("--probes <file>", "JSON-lines probes (default: standard input)")
    .action((opts: { objects?: string[]; probes?: string }) => {
      const cluster = loadCluster(opts);
      const { text, name } = readInput(opts.probes);
      const results = inputErrors(() => runProbes(cluster, parseProbes(text, name), name));
      output.out(results.map((r) => JSON.stringify(r) + "\n").join(""));
    });

  netpol
    .command("matrix")
    .description(
      "Print the reachability truth table, sources as rows and destinations as columns (. allowed, X blocked)",
    )
    .option(...objectsOption)
    .option("--port <port>", "port number or container port name (default: any port)")
    .option("--protocol <protocol>", "TCP, UDP or SCTP (default: TCP with --port, else all)")
    .addOption(outputOption(["table", "json"], "table"))
    .action((opts: { objects?: string[]; port?: string; protocol?: string; output: string }) => {
      const port = parsePort(opts.port);
      const protocol = parseProtocol(opts.protocol);
      const cluster = loadCluster(opts);
      const view = matrixView(cluster, {
        ...(port !== undefined ? { port } : {}),
        ...(protocol !== undefined ? { protocol } : {}),
      });
      output.out(opts.output === "json" ? JSON.stringify(viewJson(view)) + "\n" : renderMatrix(view));
    });

  netpol
    .command("lint")
    .description(
      "Flag common mistakes: policies selecting nothing, DNS blocked by egress policies, defaulted or ignored policyTypes, isolation that blocks or allows everything. Exits 1 on warnings",
    )
    .option(...objectsOption)
    .addOption(outputOption(["table", "json"], "table"))
    .action((opts: { objects?: string[]; output: string }) => {
      const findings = lint(loadCluster(opts));
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
