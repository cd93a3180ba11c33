import { matchesSelector, parseSelectorString } from "../../core/k8s/index.js";
import type { GatehouseClient } from "../client.js";
import { CliError } from "../errors.js";
import { formatTable, toYaml, type Output } from "../io.js";

interface DiscoveredResource {
  group: string;
  version: string;
  resource: string;
  namespaced: boolean;
}

interface TableReply {
  columnDefinitions: { name: string; priority?: number }[];
  rows: { cells: unknown[]; object?: { metadata?: { namespace?: string } } }[];
}

const TABLE_ACCEPT = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";

/** Find RESOURCE (plural, singular, short name, or "plural.group") in a cluster's discovery documents. */
async function discoverResource(
  c: GatehouseClient,
  cluster: string,
  name: string,
): Promise<DiscoveredResource> {
  const base = `/k8s/clusters/${encodeURIComponent(cluster)}`;
  const [plainName, ...groupParts] = name.toLowerCase().split(".");
  const wantGroup = groupParts.length > 0 ? groupParts.join(".") : undefined;
  type ResList = {
    resources: { name: string; singularName?: string; shortNames?: string[]; namespaced: boolean }[];
  };
  const candidates: { group: string; version: string }[] = [];
  if (wantGroup === undefined || wantGroup === "") candidates.push({ group: "", version: "v1" });
  const groups = (await c.call("GET", `${base}/apis`)).body as {
    groups: { name: string; preferredVersion: { version: string } }[];
  };
  for (const g of groups.groups)
    if (wantGroup === undefined || g.name === wantGroup)
      candidates.push({ group: g.name, version: g.preferredVersion.version });
  for (const cand of candidates) {
    const path = cand.group === "" ? `${base}/api/v1` : `${base}/apis/${cand.group}/${cand.version}`;
    const list = (await c.call("GET", path)).body as ResList;
    const hit = list.resources.find(
      (r) =>
        !r.name.includes("/") &&
        (r.name === plainName ||
          r.singularName === plainName ||
          (r.shortNames ?? []).includes(plainName ?? "")),
    );
    if (hit)
      return { group: cand.group, version: cand.version, resource: hit.name, namespaced: hit.namespaced };
  }
  throw new CliError(`the server doesn't have a resource type "${name}" on cluster ${cluster}`);
}

function listPath(cluster: string, r: DiscoveredResource, namespace: string | undefined): string {
  const prefix = `/k8s/clusters/${encodeURIComponent(cluster)}${r.group === "" ? "/api/v1" : `/apis/${r.group}/${r.version}`}`;
  return r.namespaced && namespace !== undefined
    ? `${prefix}/namespaces/${encodeURIComponent(namespace)}/${r.resource}`
    : `${prefix}/${r.resource}`;
}

/**
 * `gatehouse get RESOURCE --clusters SELECTOR`: one read on every matching cluster the caller may see,
 * in parallel, printed as one table with a CLUSTER column. A cluster that fails is reported on stderr
 * and makes the exit code 3; the others are still printed.
 */
export async function fanOutGet(
  c: GatehouseClient,
  output: Output,
  opts: { resource: string; selector: string; namespace?: string; allNamespaces: boolean; output: string },
): Promise<void> {
  let selector;
  try {
    selector = parseSelectorString(opts.selector);
  } catch (e) {
    throw new CliError(`--clusters: ${(e as Error).message}`);
  }
  const mine = (await c.call("GET", "/apis/gatehouse.io/v1alpha1/myclusters")).body as {
    items: { name: string; labels?: Record<string, string> }[];
  };
  const clusters = mine.items.filter((i) => matchesSelector(selector, i.labels ?? {})).map((i) => i.name);
  if (clusters.length === 0)
    throw new CliError(`no cluster you can reach matches --clusters ${JSON.stringify(opts.selector)}`, 1);
  const namespace = opts.allNamespaces ? undefined : (opts.namespace ?? "default");
  const results = await Promise.allSettled(
    clusters.map(async (cluster) => {
      const r = await discoverResource(c, cluster, opts.resource);
      const path = listPath(cluster, r, namespace);
      if (opts.output === "table") {
        const t = (await c.call("GET", `${path}?includeObject=Metadata`, undefined, { accept: TABLE_ACCEPT }))
          .body as TableReply;
        return { cluster, namespaced: r.namespaced, table: t, items: [] as Record<string, unknown>[] };
      }
      const list = (await c.call("GET", path)).body as {
        items: Record<string, unknown>[];
        kind?: string;
        apiVersion?: string;
      };
      const kind = (list.kind ?? "").replace(/List$/, "");
      const items = list.items.map((i) => {
        const meta = (i["metadata"] ?? {}) as Record<string, unknown>;
        const annotations = {
          ...((meta["annotations"] ?? {}) as Record<string, string>),
          "gatehouse.io/cluster": cluster,
        };
        return { apiVersion: list.apiVersion, kind, ...i, metadata: { ...meta, annotations } };
      });
      return { cluster, namespaced: r.namespaced, table: undefined, items };
    }),
  );
  const failed: string[] = [];
  results.forEach((r, i) => {
    if (r.status === "rejected") failed.push(`${clusters[i]}: ${(r.reason as Error).message}`);
  });
  const ok = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  if (opts.output === "json" || opts.output === "yaml") {
    const list = { apiVersion: "v1", kind: "List", metadata: {}, items: ok.flatMap((r) => r.items) };
    output.out(opts.output === "json" ? JSON.stringify(list, null, 2) + "\n" : toYaml(list));
  } else {
    const first = ok.find((r) => r.table)?.table;
    if (first) {
      const cols = first.columnDefinitions
        .map((d, i) => ({ d, i }))
        .filter(({ d }) => (d.priority ?? 0) === 0);
      const withNs = opts.allNamespaces && ok.some((r) => r.namespaced);
      const headers = [
        "CLUSTER",
        ...(withNs ? ["NAMESPACE"] : []),
        ...cols.map(({ d }) => d.name.toUpperCase()),
      ];
      const rows = ok.flatMap((r) =>
        (r.table?.rows ?? []).map((row) => [
          r.cluster,
          ...(withNs ? [row.object?.metadata?.namespace ?? ""] : []),
          ...cols.map(({ i }) => String(row.cells[i] ?? "")),
        ]),
      );
      if (rows.length > 0) output.out(formatTable(headers, rows));
      else if (failed.length === 0) output.err(`No resources found.\n`);
    }
  }
  for (const f of failed) output.err(`error: cluster ${f}\n`);
  if (failed.length > 0) throw new CliError(`${failed.length} of ${clusters.length} clusters failed`, 3);
}
