import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { formatRanges } from "../../core/netpol/index.js";
import type { ClusterVerification } from "../../core/tenancy/index.js";
import type { TenantVerification } from "../../server/tenancy/verify.js";
import { addServerOptions, GatehouseClient, type ServerFlags } from "../client.js";
import { NegativeAnswer } from "../errors.js";
import { formatTable, toYaml, type Output } from "../io.js";
import { outputOption } from "../program.js";

const GV = "gatehouse.io/v1alpha1";
const BASE = `/apis/${GV}`;

interface TenantObject {
  metadata: { name: string };
  spec: {
    owners?: { kind: string; name: string }[];
    clusters?: { names?: string[]; selector?: unknown };
    maxSpaces?: number;
  };
  status?: { spaces?: unknown[] };
}

const client = (f: ServerFlags): GatehouseClient =>
  GatehouseClient.fromFlags(f, () => readFileSync(0, "utf8"), process.env);

/** `gatehouse tenant`: list and show tenants, and prove their isolation (docs/tenancy.md). */
export function registerTenant(program: Command, output: Output): void {
  const tenant = program
    .command("tenant")
    .description(
      "tenants: who owns which spaces on which clusters, within which quotas. Create and change them with gatehouse apply -f (kind: Tenant)",
    );

  addServerOptions(tenant.command("list").description("list tenants with their owners, clusters and spaces"))
    .addOption(outputOption(["table", "json", "yaml"], "table"))
    .action(async (f: ServerFlags & { output: string }) => {
      const r = await client(f).call("GET", `${BASE}/tenants`);
      if (f.output === "json") return output.out(JSON.stringify(r.body, null, 2) + "\n");
      if (f.output === "yaml") return output.out(toYaml(r.body));
      const items = (r.body as { items: TenantObject[] }).items;
      if (items.length === 0) return output.out("No tenants found.\n");
      output.out(
        formatTable(
          ["NAME", "OWNERS", "CLUSTERS", "SPACES"],
          items.map((t) => [
            t.metadata.name,
            (t.spec.owners ?? []).map((o) => `${o.kind}/${o.name}`).join(","),
            [...(t.spec.clusters?.names ?? []), ...(t.spec.clusters?.selector ? ["<selector>"] : [])].join(
              ",",
            ),
            `${t.status?.spaces?.length ?? 0}${t.spec.maxSpaces !== undefined ? `/${t.spec.maxSpaces}` : ""}`,
          ]),
        ),
      );
    });

  addServerOptions(tenant.command("get").description("show one tenant with its status").argument("<name>"))
    .addOption(outputOption(["yaml", "json"], "yaml"))
    .action(async (name: string, f: ServerFlags & { output: string }) => {
      const r = await client(f).call("GET", `${BASE}/tenants/${encodeURIComponent(name)}`);
      output.out(f.output === "json" ? JSON.stringify(r.body, null, 2) + "\n" : toYaml(r.body));
    });

  addServerOptions(
    tenant
      .command("verify")
      .description(
        "read the live clusters and prove the tenant is isolated: no pod outside it can reach its pods or be reached by them (NetworkPolicy simulator), no subject outside it can read or change its spaces (RBAC engine), with quota headroom. Exits 1 when isolation is broken, naming the path",
      )
      .argument("<name>", "the tenant"),
  )
    .option("--cluster <cluster>", "only this cluster (default: every cluster the tenant has spaces on)")
    .addOption(outputOption(["table", "json"], "table"))
    .action(async (name: string, f: ServerFlags & { cluster?: string; output: string }) => {
      const q = f.cluster ? `?cluster=${encodeURIComponent(f.cluster)}` : "";
      const r = await client(f).call("GET", `${BASE}/tenants/${encodeURIComponent(name)}/verify${q}`);
      const v = r.body as TenantVerification;
      output.out(f.output === "json" ? JSON.stringify(v, null, 2) + "\n" : renderVerification(v));
      if (!v.status.isolated) throw new NegativeAnswer();
    });
}

function renderCluster(c: ClusterVerification): string {
  const parts: string[] = [
    `cluster ${c.cluster}: ${c.isolated ? "isolated" : "NOT ISOLATED"} (spaces: ${c.spaces.join(", ") || "none"})\n`,
  ];
  if (c.network.length > 0)
    parts.push(
      "\nnetwork paths across the tenant boundary:\n" +
        formatTable(
          ["FROM", "TO", "PROTOCOL", "PORTS", "WHY"],
          c.network.map((n) => [
            n.from,
            n.to,
            n.protocol,
            formatRanges(n.ports),
            n.explanation.replace(/\s*\n\s*/g, "; "),
          ]),
        ) +
        (c.networkTruncated ? "(more paths exist; the first ones are shown)\n" : ""),
    );
  if (c.rbac.length > 0)
    parts.push(
      "\nsubjects outside the tenant with access to its spaces:\n" +
        formatTable(
          ["SUBJECT", "NAMESPACE", "RESOURCE", "VERBS", "VIA"],
          c.rbac.map((b) => [b.subject, b.namespace, b.resource, b.verbs.join(","), b.via.join(", ")]),
        ),
    );
  const rows = c.quota.flatMap((q) => q.resources.map((r) => [q.namespace, r.name, r.hard, r.used, r.free]));
  if (rows.length > 0)
    parts.push("\nquota headroom:\n" + formatTable(["NAMESPACE", "RESOURCE", "HARD", "USED", "FREE"], rows));
  return parts.join("");
}

/** The table form of a verification: a verdict per cluster, then the paths and subjects that break it. */
export function renderVerification(v: TenantVerification): string {
  const s = v.status;
  const out: string[] = [
    `tenant ${v.metadata.name}: ${s.isolated ? "isolated" : "NOT ISOLATED"}; spaces ${s.spaces.count}${s.spaces.max !== undefined ? ` of at most ${s.spaces.max}` : ""}\n`,
  ];
  for (const c of s.clusters) out.push("\n" + renderCluster(c));
  for (const e of s.errors) out.push(`\ncluster ${e.cluster}: NOT VERIFIED: ${e.message}\n`);
  const limits = [
    ...Object.entries(s.limits.total ?? {}).map(([k, lim]) => ["total", k, s.usage.total[k] ?? "0", lim]),
    ...Object.entries(s.limits.perCluster ?? {}).flatMap(([k, lim]) =>
      Object.entries(s.usage.perCluster).map(([c, u]) => [c, k, u[k] ?? "0", lim]),
    ),
  ];
  if (limits.length > 0)
    out.push(
      "\ntenant quota (reserved by spaces):\n" +
        formatTable(["SCOPE", "RESOURCE", "RESERVED", "LIMIT"], limits),
    );
  return out.join("");
}
