import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { addServerOptions, GatehouseClient, type ServerFlags } from "../client.js";
import { CliError } from "../errors.js";
import { formatTable, readObjectPaths, toYaml, type Output } from "../io.js";
import { outputOption } from "../program.js";
import { fanOutGet } from "./fanout.js";

const GV = "gatehouse.io/v1alpha1";
const BASE = `/apis/${GV}`;

interface ApiResource {
  name: string;
  singularName: string;
  kind: string;
  verbs: string[];
  shortNames?: string[];
}

interface Obj {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    resourceVersion?: string;
    creationTimestamp?: string;
    labels?: Record<string, string>;
  };
  [k: string]: unknown;
}

async function discover(client: GatehouseClient): Promise<ApiResource[]> {
  const r = await client.call("GET", BASE);
  return (r.body as { resources: ApiResource[] }).resources;
}

/** "accessbindings", "accessbinding", "ab" or "AccessBinding" → the resource. */
function resolve(resources: ApiResource[], name: string): ApiResource {
  const n = name.toLowerCase().replace(/\.gatehouse\.io$/, "");
  const r = resources.find(
    (x) =>
      x.name === n || x.singularName === n || x.kind.toLowerCase() === n || (x.shortNames ?? []).includes(n),
  );
  if (!r)
    throw new CliError(
      `the server doesn't have a resource type "${name}"; known: ${resources.map((x) => x.name).join(", ")}`,
    );
  return r;
}

const client = (f: ServerFlags): GatehouseClient =>
  GatehouseClient.fromFlags(f, () => readFileSync(0, "utf8"), process.env);

/** kubectl-style verbs for gatehouse.io objects: apply -f (GitOps), get, delete. */
export function registerObjects(program: Command, output: Output): void {
  addServerOptions(
    program
      .command("apply")
      .description(
        "create or update gatehouse.io objects (teams, access roles and bindings, clusters) from YAML/JSON files or folders",
      )
      .requiredOption("-f, --filename <path...>", "files or folders of YAML or JSON"),
  )
    .option("--dry-run", "print what would change without changing it")
    .action(async (f: ServerFlags & { filename: string[]; dryRun?: boolean }) => {
      const docs = readObjectPaths(f.filename);
      for (const d of docs) {
        if (d.object.apiVersion !== GV)
          throw new CliError(
            `${d.source.file} document ${d.source.document}: apiVersion must be ${GV}, got ${String(d.object.apiVersion)}`,
          );
        if (!d.object.metadata?.name)
          throw new CliError(`${d.source.file} document ${d.source.document}: metadata.name is required`);
      }
      const c = client(f);
      const resources = await discover(c);
      const plan = docs.map((d) => ({ d, r: resolve(resources, String(d.object.kind)) }));
      for (const { d, r } of plan) {
        const name = d.object.metadata?.name as string;
        const path = `${BASE}/${r.name}/${encodeURIComponent(name)}`;
        const current = await c.call("GET", path).catch((e: unknown) => {
          if (e instanceof CliError && /not found/.test(e.message)) return undefined;
          throw e;
        });
        const id = `${r.name}.gatehouse.io/${name}`;
        if (!current) {
          if (!f.dryRun) await c.call("POST", `${BASE}/${r.name}`, d.object);
          output.out(`${id} created${f.dryRun ? " (dry run)" : ""}\n`);
          continue;
        }
        const cur = current.body as Obj;
        const { metadata: _m, status: _s, ...curRest } = cur;
        const { metadata: _m2, status: _s2, ...newRest } = d.object as Obj;
        const sameLabels =
          JSON.stringify(cur.metadata?.labels ?? {}) === JSON.stringify(d.object.metadata?.labels ?? {});
        if (JSON.stringify(curRest) === JSON.stringify(newRest) && sameLabels) {
          output.out(`${id} unchanged\n`);
          continue;
        }
        const body = {
          ...d.object,
          metadata: { ...d.object.metadata, resourceVersion: cur.metadata?.resourceVersion },
        };
        if (!f.dryRun) await c.call("PUT", path, body);
        output.out(`${id} configured${f.dryRun ? " (dry run)" : ""}\n`);
      }
    });

  addServerOptions(
    program
      .command("get")
      .description(
        "list or show gatehouse.io objects; with --clusters, list a Kubernetes resource on every matching cluster you can reach",
      )
      .argument("<type>")
      .argument("[name]"),
  )
    .addOption(outputOption(["table", "json", "yaml", "name"], "table"))
    .option(
      "--clusters <selector>",
      "label selector of clusters to read from, e.g. env=prod (fan-out through the gateway)",
    )
    .option("-n, --namespace <ns>", "namespace (with --clusters; default: default)")
    .option("-A, --all-namespaces", "all namespaces (with --clusters)")
    .action(async (type: string, name: string | undefined, f: GetFlags) => {
      const c = client(f);
      if (f.clusters === undefined) return getObjects(c, output, type, name, f.output);
      if (name !== undefined) throw new CliError("--clusters lists a resource type; it does not take a name");
      if (f.output === "name") throw new CliError("--clusters supports -o table|json|yaml");
      return fanOutGet(c, output, {
        resource: type,
        selector: f.clusters,
        ...(f.namespace !== undefined ? { namespace: f.namespace } : {}),
        allNamespaces: f.allNamespaces === true,
        output: f.output,
      });
    });

  addServerOptions(
    program
      .command("delete")
      .description("delete gatehouse.io objects")
      .argument("<type>")
      .argument("<names...>"),
  ).action(async (type: string, names: string[], f: ServerFlags) => {
    const c = client(f);
    const r = resolve(await discover(c), type);
    for (const n of names) {
      await c.call("DELETE", `${BASE}/${r.name}/${encodeURIComponent(n)}`);
      output.out(`${r.name}.gatehouse.io "${n}" deleted\n`);
    }
  });
}

function age(ts: string | undefined): string {
  if (!ts) return "<unknown>";
  const s = Math.max(0, Math.floor((Date.now() - Date.parse(ts)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

type GetFlags = ServerFlags & {
  output: string;
  clusters?: string;
  namespace?: string;
  allNamespaces?: boolean;
};

/** `gatehouse get TYPE [NAME]` for gatehouse.io objects. */
async function getObjects(
  c: GatehouseClient,
  output: Output,
  type: string,
  name: string | undefined,
  format: string,
): Promise<void> {
  const r = resolve(await discover(c), type);
  let items: Obj[];
  let whole: unknown;
  if (name) {
    whole = (await c.call("GET", `${BASE}/${r.name}/${encodeURIComponent(name)}`)).body;
    items = [whole as Obj];
  } else {
    items = [];
    let cont = "";
    do {
      const page = (
        await c.call(
          "GET",
          `${BASE}/${r.name}?limit=200${cont ? `&continue=${encodeURIComponent(cont)}` : ""}`,
        )
      ).body as { items: Obj[]; metadata: { continue?: string } };
      items.push(...page.items);
      cont = page.metadata.continue ?? "";
    } while (cont !== "");
    whole = { apiVersion: GV, kind: `${r.kind}List`, metadata: {}, items };
  }
  if (format === "json") return output.out(JSON.stringify(whole, null, 2) + "\n");
  if (format === "yaml") return output.out(toYaml(whole));
  if (format === "name")
    return output.out(items.map((o) => `${r.name}.gatehouse.io/${o.metadata?.name ?? ""}\n`).join(""));
  if (!name && items.length === 0) return output.err(`No ${r.name} found.\n`);
  output.out(
    formatTable(
      ["NAME", "AGE"],
      items.map((o) => [o.metadata?.name ?? "", age(o.metadata?.creationTimestamp)]),
    ),
  );
}
