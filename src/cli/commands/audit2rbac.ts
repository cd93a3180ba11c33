import { InvalidArgumentError, type Command } from "commander";
import {
  audit2rbac,
  Audit2rbacError,
  DEFAULT_ANNOTATIONS,
  DEFAULT_LABELS,
  DEFAULT_NAME,
  DEFAULT_VERB_EXPANSIONS,
  parseEvent,
  parseSince,
  renderExplanations,
  renderJson,
  renderYaml,
  SinceError,
  summary,
  type Event,
  type SubjectResult,
} from "../../core/audit/index.js";
import { ParseError } from "../../core/k8s/index.js";
import { parseRbacObjects, serviceAccountUsername, type RbacObject } from "../../core/rbac/index.js";
import { VERSION } from "../../version.js";
import { CliError } from "../errors.js";
import { parseText, readInput, readObjectPaths, type Output } from "../io.js";
import { outputOption } from "../program.js";
import { addServerOptions, type ServerFlags } from "../client.js";
import { fetchStoredEvents } from "./audit.js";

interface Opts extends ServerFlags {
  user: string[];
  serviceaccount: string[];
  namespace?: string;
  cluster?: string;
  since?: string;
  filename: string[];
  existing: string[];
  expandMultiNamespace: boolean;
  expandMultiName: boolean;
  generateName: string;
  generateLabels?: string[];
  generateAnnotations?: string[];
  explain?: boolean;
  output: "yaml" | "json";
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];
const collectCsv = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), ...v.split(",")];

function parseBool(v: string): boolean {
  if (v === "true") return true;
  if (v === "false") return false;
  throw new InvalidArgumentError("expected true or false");
}

/** `gatehouse audit2rbac`: least-privilege RBAC from what users did, as liggitt/audit2rbac. */
export function registerAudit2rbac(program: Command, output: Output): void {
  addServerOptions(program.command("audit2rbac"))
    .description(
      "Generate the least-privilege Roles, ClusterRoles and bindings that allow exactly what a user did,\n" +
        "from Kubernetes audit logs (audit.k8s.io/v1 JSON lines, YAML or EventList). Requests that existing\n" +
        "RBAC objects (--existing) or every cluster's discovery roles already allow produce nothing.",
    )
    .option("--user <name>", "user to generate for (repeatable)", collect, [])
    .option("--serviceaccount <namespace:name>", "service account to generate for (repeatable)", collect, [])
    .option("-n, --namespace <namespace>", "only learn from requests in this namespace")
    .option("--cluster <name>", "read events of this cluster from the Gatehouse store")
    .option(
      "--since <duration|time>",
      "only learn from requests since then (e.g. 24h, 7d, 2024-05-01T00:00:00Z)",
    )
    .option("-f, --filename <file>", "audit log to read, - for standard input (repeatable)", collect, [])
    .option("--existing <path>", "RBAC objects the cluster has: files or folders (repeatable)", collect, [])
    .option(
      "--expand-multi-namespace [bool]",
      "one cluster-wide rule for a request seen in several namespaces",
      parseBool,
      true,
    )
    .option(
      "--expand-multi-name [bool]",
      "one rule without names for a request seen on several names",
      parseBool,
      true,
    )
    .option("--generate-name <name>", "name of generated objects", DEFAULT_NAME)
    .option(
      "--generate-labels <k=v,...>",
      `labels of generated objects (default ${DEFAULT_LABELS.join(",")})`,
      collectCsv,
    )
    .option(
      "--generate-annotations <k=v,...>",
      `annotations of generated objects (default ${DEFAULT_ANNOTATIONS.join(",")})`,
      collectCsv,
    )
    .option("--explain", "say which requests caused each rule (YAML comments; on stderr with -o json)")
    .addOption(outputOption(["yaml", "json"], "yaml"))
    .action(async (opts: Opts) => {
      const now = Date.now();
      run(opts, output, now, opts.filename.length === 0 ? await storedEvents(opts, now) : undefined);
    });
}

/**
 * The cluster's gateway events from the Gatehouse store, for each user (acting or impersonated).
 * The gateway records cluster-relative request URIs, so they read back as the cluster's own would.
 */
async function storedEvents(opts: Opts, nowMs: number): Promise<Event[]> {
  const usernames = [...opts.user, ...opts.serviceaccount.map(serviceAccountName)];
  if (usernames.length === 0) throw new CliError("--user or --serviceaccount is required");
  if (opts.cluster === undefined)
    throw new CliError(
      "-f is required, or --cluster NAME to read the events of a cluster from the Gatehouse store",
    );
  const since =
    opts.since !== undefined ? asCliError(() => parseSince(opts.since as string, nowMs)) : undefined;
  const out: Event[] = [];
  for (const user of usernames) {
    const q = new URLSearchParams({ cluster: opts.cluster, user, source: "gateway" });
    if (since !== undefined) q.set("since", new Date(since).toISOString());
    out.push(...(await fetchStoredEvents(opts, q)));
  }
  return out;
}

function run(opts: Opts, output: Output, nowMs: number, stored?: Event[]): void {
  const usernames = [...opts.user, ...opts.serviceaccount.map(serviceAccountName)];
  if (usernames.length === 0) throw new CliError("--user or --serviceaccount is required");
  if (opts.filename.length > 0 && opts.cluster !== undefined) {
    throw new CliError("--cluster selects events in the Gatehouse store and cannot be combined with -f");
  }
  const sinceMs =
    opts.since !== undefined ? asCliError(() => parseSince(opts.since as string, nowMs)) : undefined;
  const events = stored ?? readEvents(opts.filename);
  const existing = readExisting(opts.existing);
  let results: SubjectResult[];
  try {
    results = audit2rbac({
      events,
      usernames,
      ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}),
      ...(sinceMs !== undefined ? { sinceMs } : {}),
      existing,
      expand: {
        expandMultiNamespace: opts.expandMultiNamespace,
        expandMultiName: opts.expandMultiName,
        verbExpansions: DEFAULT_VERB_EXPANSIONS,
      },
      templates: {
        name: opts.generateName,
        labels: opts.generateLabels ?? DEFAULT_LABELS,
        annotations: opts.generateAnnotations ?? DEFAULT_ANNOTATIONS,
      },
      version: VERSION,
    });
  } catch (e) {
    if (e instanceof Audit2rbacError) throw new CliError(e.message, e.code === "NoEvents" ? 1 : 2);
    throw e;
  }
  for (const r of results) output.err(summary(r));
  const explain = opts.explain === true;
  if (opts.output === "json") {
    output.out(renderJson(results));
    if (explain) output.err(renderExplanations(results));
  } else {
    output.out(renderYaml(results, explain));
  }
}

function serviceAccountName(v: string): string {
  const parts = v.split(":");
  if (parts.length !== 2 || parts[0] === "" || parts[1] === "") {
    throw new CliError(`--serviceaccount ${JSON.stringify(v)}: expected <namespace>:<name>`);
  }
  return serviceAccountUsername(parts[0] as string, parts[1] as string);
}

function readEvents(files: readonly string[]): Event[] {
  const out: Event[] = [];
  for (const f of files) {
    const input = readInput(f);
    for (const d of parseText(input.text, input.name)) out.push(asCliError(() => parseEvent(d)));
  }
  return out;
}

function readExisting(paths: readonly string[]): RbacObject[] {
  if (paths.length === 0) return [];
  return asCliError(() => parseRbacObjects(readObjectPaths(paths)).map((o) => o.object));
}

function asCliError<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof ParseError || e instanceof SinceError) throw new CliError(e.message);
    throw e;
  }
}
