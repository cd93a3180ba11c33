import { readFileSync } from "node:fs";
import type { Command } from "commander";
import {
  ANNOTATION,
  evaluatePolicy,
  parsePolicy,
  parseSince,
  SinceError,
  type Event,
  type Policy,
} from "../../core/audit/index.js";
import {
  ParseError,
  sarToAttributes,
  type RequestAttributes,
  type SourcedObject,
} from "../../core/k8s/index.js";
import { addServerOptions, GatehouseClient, type ServerFlags } from "../client.js";
import { CliError, NegativeAnswer } from "../errors.js";
import { formatTable, parseText, readInput, toYaml, type Output } from "../io.js";
import { outputOption } from "../program.js";
import { registerAuditPolicy } from "./audit-policy.js";

/**
 * `gatehouse audit ...`: one group, one small function per subcommand. Subcommands that read the
 * Gatehouse store (query, tail, verify) are added here beside policy-check.
 */
export function registerAudit(program: Command, output: Output): void {
  const audit = program
    .command("audit")
    .description("Kubernetes audit: check audit policies, read and verify the Gatehouse audit log");
  registerPolicyCheck(audit, output);
  registerQuery(audit, output);
  registerTail(audit, output);
  registerVerify(audit, output);
  registerAuditPolicy(audit, output);
}

const EVENTS = "/apis/gatehouse.io/v1alpha1/auditevents";
const FORMATS = ["table", "json", "jsonl", "yaml"] as const;

interface FilterFlags extends ServerFlags {
  cluster?: string;
  user?: string;
  group?: string;
  verb?: string;
  resource?: string;
  namespace?: string;
  name?: string;
  code?: string;
  decision?: string;
  impact?: string;
  since?: string;
  until?: string;
  auditId?: string;
  stage?: string;
  source?: string;
  incomplete?: boolean;
  output: string;
}

interface EventListReply {
  items: Event[];
  metadata: { continue?: string; resourceVersion?: string };
}

const client = (f: ServerFlags): GatehouseClient =>
  GatehouseClient.fromFlags(f, () => readFileSync(0, "utf8"), process.env);

/** The filter flags query and tail share. */
function addFilterOptions(cmd: Command): Command {
  return addServerOptions(cmd)
    .option("--cluster <name>", "only requests to this cluster")
    .option("--user <name>", "only this user, whether acting or impersonated")
    .option("--group <name>", "only users in this group")
    .option("--verb <verb>", "only this Kubernetes verb (get, list, create, ...)")
    .option("--resource <resource>", "only this resource (pods, users, ...)")
    .option("-n, --namespace <ns>", "only this namespace")
    .option("--name <name>", "only objects with this name")
    .option("--code <code>", "only this HTTP response code")
    .option("--decision <decision>", "only allow or forbid")
    .option("--impact <impact>", "only read, write, delete or privileged")
    .option("--since <time>", "only events since a duration ago (30m, 24h, 7d) or an RFC 3339 time")
    .option("--until <time>", "only events before a duration ago or an RFC 3339 time")
    .option("--audit-id <id>", "only the events of this request (the Audit-ID)")
    .option("--stage <stage>", "only RequestReceived, ResponseStarted, ResponseComplete or Panic")
    .option("--source <source>", "only gateway, cluster or gatehouse events")
    .option("--incomplete", "only requests received but never completed (cut off by a crash)")
    .addOption(outputOption(FORMATS, "table"));
}

/** The query string for the filter flags; times are resolved here, once. */
function filterQuery(f: FilterFlags, now: number): URLSearchParams {
  const q = new URLSearchParams();
  const set = (k: string, v: string | undefined): void => {
    if (v !== undefined && v !== "") q.set(k, v);
  };
  set("cluster", f.cluster);
  set("user", f.user);
  set("group", f.group);
  set("verb", f.verb);
  set("resource", f.resource);
  set("namespace", f.namespace);
  set("name", f.name);
  set("auditID", f.auditId);
  set("stage", f.stage);
  set("source", f.source);
  if (f.incomplete) q.set("incomplete", "true");
  if (f.code !== undefined) {
    if (!/^[1-5]\d\d$/.test(f.code))
      throw new CliError(`--code: expected an HTTP status code, got ${JSON.stringify(f.code)}`);
    q.set("code", f.code);
  }
  if (f.decision !== undefined) {
    if (f.decision !== "allow" && f.decision !== "forbid")
      throw new CliError("--decision: expected allow or forbid");
    q.set("decision", f.decision);
  }
  if (f.impact !== undefined) {
    if (!["read", "write", "delete", "privileged"].includes(f.impact))
      throw new CliError("--impact: expected read, write, delete or privileged");
    q.set("impact", f.impact);
  }
  for (const key of ["since", "until"] as const) {
    const v = f[key];
    if (v === undefined) continue;
    try {
      q.set(key, new Date(parseSince(v, now)).toISOString());
    } catch (e) {
      if (e instanceof SinceError) throw new CliError(e.message.replace("--since", `--${key}`));
      throw e;
    }
  }
  return q;
}

/**
 * Every stored event matching `query` (audit query's filters as URL parameters), read page by page
 * through the API: what `gatehouse audit2rbac --cluster` learns from.
 */
export async function fetchStoredEvents(f: ServerFlags, query: URLSearchParams): Promise<Event[]> {
  const c = client(f);
  const out: Event[] = [];
  let cont = "";
  do {
    const q = new URLSearchParams(query);
    q.set("limit", "5000");
    if (cont) q.set("continue", cont);
    const list = (await c.call("GET", `${EVENTS}?${q.toString()}`)).body as EventListReply;
    out.push(...list.items);
    cont = list.metadata.continue ?? "";
  } while (cont !== "");
  return out;
}

function registerQuery(audit: Command, output: Output): void {
  addFilterOptions(
    audit
      .command("query")
      .description(
        "Print stored audit events (gateway requests, the clusters' own events, Gatehouse actions),\n" +
          "oldest first. Reads pages of --chunk-size; at most --limit events are printed, and when more\n" +
          "match, the token for the next page is printed on standard error (pass it as --continue).",
      ),
  )
    .option("--limit <n>", "print at most this many events (0: all)", "500")
    .option("--chunk-size <n>", "events per request", "500")
    .option("--continue <token>", "resume after a previous page")
    .action(async (f: FilterFlags & { limit: string; chunkSize: string; continue?: string }) => {
      const limit = count("--limit", f.limit, 0);
      const chunk = Math.min(count("--chunk-size", f.chunkSize, 1), 5000);
      const q = filterQuery(f, Date.now());
      const c = client(f);
      const events: Event[] = [];
      let printed = 0;
      let cont = f.continue ?? "";
      do {
        const want = limit === 0 ? chunk : Math.min(chunk, limit - printed);
        q.set("limit", String(want));
        if (cont) q.set("continue", cont);
        else q.delete("continue");
        const list = (await c.call("GET", `${EVENTS}?${q.toString()}`)).body as EventListReply;
        if (f.output === "jsonl") output.out(list.items.map((e) => JSON.stringify(e) + "\n").join(""));
        else events.push(...list.items);
        printed += list.items.length;
        cont = list.metadata.continue ?? "";
      } while (cont !== "" && (limit === 0 || printed < limit));
      if (f.output !== "jsonl") printEvents(output, f.output, events);
      if (cont !== "") output.err(`more events match: continue with --continue ${cont}\n`);
    });
}

function registerTail(audit: Command, output: Output): void {
  addFilterOptions(
    audit
      .command("tail")
      .description(
        "Print the newest stored audit events; with -f, keep printing new ones as they are stored\n" +
          "(the server holds each request open until an event arrives or 30 seconds pass).",
      ),
  )
    .option("-f, --follow", "keep printing new events")
    .option("--lines <n>", "how many of the newest events to print first", "10")
    .action(async (f: FilterFlags & { follow?: boolean; lines: string }) => {
      if (f.output === "json" || f.output === "yaml")
        throw new CliError("tail prints -o table or -o jsonl (one event per line)");
      const q = filterQuery(f, Date.now());
      const c = client(f);
      q.set("tail", String(Math.min(count("--lines", f.lines, 0), 5000)));
      const first = (await c.call("GET", `${EVENTS}?${q.toString()}`)).body as EventListReply;
      let header = true;
      const print = (items: Event[]): void => {
        if (items.length === 0) return;
        if (f.output === "jsonl") output.out(items.map((e) => JSON.stringify(e) + "\n").join(""));
        else {
          const t = eventTable(items);
          output.out(header ? t : t.slice(t.indexOf("\n") + 1));
          header = false;
        }
      };
      print(first.items);
      if (!f.follow) return;
      q.delete("tail");
      let cursor = first.metadata.resourceVersion ?? "-1";
      for (;;) {
        q.set("after", cursor);
        q.set("waitSeconds", "30");
        q.set("limit", "1000");
        const next = (await c.call("GET", `${EVENTS}?${q.toString()}`)).body as EventListReply;
        print(next.items);
        cursor = next.metadata.resourceVersion ?? cursor;
      }
    });
}

function registerVerify(audit: Command, output: Output): void {
  addServerOptions(
    audit
      .command("verify")
      .description(
        "Verify the hash chain of every stored audit event: any altered, removed or reordered event is\n" +
          "reported with its position and exits 1. Removal at the end, or a consistent rewrite, is found\n" +
          "only against a head recorded earlier (--head SEQ:HASH, as printed by a previous verify).",
      ),
  )
    .option("--head <seq:hash>", "a trusted head recorded earlier")
    .addOption(outputOption(["text", "json"], "text"))
    .action(async (f: ServerFlags & { head?: string; output: string }) => {
      let head: { seq: number; hash: string } | undefined;
      if (f.head !== undefined) {
        const m = /^(\d+):([0-9a-f]{64})$/.exec(f.head);
        if (!m) throw new CliError("--head: expected SEQ:HASH (a number, a colon and 64 hex digits)");
        head = { seq: Number(m[1]), hash: m[2] as string };
      }
      const r = await client(f).call("POST", "/apis/gatehouse.io/v1alpha1/auditverifications", {
        apiVersion: "gatehouse.io/v1alpha1",
        kind: "AuditVerification",
        spec: head ? { head } : {},
      });
      const v = (r.body as { status: Verdict }).status;
      if (f.output === "json") output.out(JSON.stringify(v, null, 2) + "\n");
      else if (v.ok) output.out(`ok: ${v.count} events verified; head ${v.head.seq}:${v.head.hash}\n`);
      else
        output.out(
          `${v.problem}: event at position ${v.position}` +
            (v.seq !== undefined ? ` (seq ${v.seq}, auditID ${v.auditID ?? ""})` : "") +
            `: ${v.detail}\n`,
        );
      if (!v.ok) throw new NegativeAnswer();
    });
}

type Verdict =
  | { ok: true; count: number; head: { seq: number; hash: string } }
  | { ok: false; problem: string; detail: string; position: number; seq?: number; auditID?: string };

function count(flag: string, v: string, min: number): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min)
    throw new CliError(`${flag}: expected an integer of at least ${min}`);
  return n;
}

function printEvents(output: Output, format: string, events: Event[]): void {
  const list = { kind: "EventList", apiVersion: "audit.k8s.io/v1", metadata: {}, items: events };
  if (format === "json") return output.out(JSON.stringify(list, null, 2) + "\n");
  if (format === "yaml") return output.out(toYaml(list));
  if (events.length === 0) return output.err("No audit events found.\n");
  output.out(eventTable(events));
}

/** One line per event, kubectl style. */
function eventTable(events: Event[]): string {
  return formatTable(
    [
      "TIME",
      "STAGE",
      "CLUSTER",
      "USER",
      "VERB",
      "RESOURCE",
      "NAMESPACE",
      "NAME",
      "CODE",
      "DECISION",
      "AUDIT-ID",
    ],
    events.map((e) => {
      const r = e.objectRef;
      const resource = r
        ? [r.apiGroup ? `${r.resource ?? ""}.${r.apiGroup}` : (r.resource ?? ""), r.subresource]
            .filter(Boolean)
            .join("/")
        : (e.requestURI.split("?")[0] ?? "");
      return [
        e.stageTimestamp,
        e.stage,
        e.annotations?.[ANNOTATION.cluster] ?? "",
        e.impersonatedUser
          ? `${e.user.username ?? ""} (as ${e.impersonatedUser.username ?? ""})`
          : (e.user.username ?? ""),
        e.verb,
        resource,
        r?.namespace ?? "",
        r?.name ?? "",
        e.responseStatus ? String(e.responseStatus.code) : "",
        e.annotations?.[ANNOTATION.decision] ?? "",
        e.auditID,
      ];
    }),
  );
}

function registerPolicyCheck(audit: Command, output: Output): void {
  audit
    .command("policy-check")
    .description(
      "Say what an audit.k8s.io/v1 Policy would record for each request.\n" +
        "Requests are authorization.k8s.io/v1 SubjectAccessReviews (YAML documents, JSON, or one JSON\n" +
        "object per line) read from --requests or standard input. Prints one JSON object per request,\n" +
        "in input order: level, omitStages (sorted), omitManagedFields and the index of the matching rule.",
    )
    .requiredOption("--policy <file>", "the audit policy file")
    .option("--requests <file>", "SubjectAccessReviews to check (default: standard input)")
    .action((opts: { policy: string; requests?: string }) => {
      if (opts.policy === "-" && (opts.requests === undefined || opts.requests === "-")) {
        throw new CliError("--policy and --requests cannot both be standard input");
      }
      const policy = readPolicy(opts.policy);
      const input = readInput(opts.requests);
      // Read and validate every request before printing anything: bad input prints nothing.
      const requests = parseText(input.text, input.name).map(toAttributes);
      const lines = requests.map((a) => {
        const c = evaluatePolicy(policy, a);
        return JSON.stringify({
          level: c.level,
          omitStages: c.omitStages,
          omitManagedFields: c.omitManagedFields,
          rule: c.rule ?? null,
        });
      });
      if (lines.length > 0) output.out(lines.join("\n") + "\n");
    });
}

/** Read a file holding exactly one audit Policy. */
export function readPolicy(file: string): Policy {
  const input = readInput(file);
  const docs = parseText(input.text, input.name);
  const [doc, extra] = docs;
  if (!doc) throw new CliError(`${input.name}: no audit policy found`);
  if (extra) throw new CliError(`${input.name}: expected one audit Policy, found ${docs.length} documents`);
  return cliParse(() => parsePolicy(doc));
}

function toAttributes(d: SourcedObject): RequestAttributes {
  return cliParse(() => sarToAttributes(d).attributes);
}

/** Run a core parser, turning its ParseError (which names file, document and line) into a usage error. */
function cliParse<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof ParseError) throw new CliError(e.message);
    throw e;
  }
}
