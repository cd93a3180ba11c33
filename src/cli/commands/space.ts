import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { addServerOptions, GatehouseClient, type ServerFlags } from "../client.js";
import { CliError } from "../errors.js";
import { formatTable, toYaml, type Output } from "../io.js";
import { outputOption } from "../program.js";

const GV = "gatehouse.io/v1alpha1";
const BASE = `/apis/${GV}`;

interface SpaceObject {
  metadata: { name: string; creationTimestamp?: string };
  spec: { tenant: string; cluster: string };
}

const client = (f: ServerFlags): GatehouseClient =>
  GatehouseClient.fromFlags(f, () => readFileSync(0, "utf8"), process.env);

function required(v: string | undefined, flag: string, what: string): string {
  if (v === undefined || v === "") throw new CliError(`${flag} is required: ${what}`);
  return v;
}

/** `gatehouse space`: a tenant's namespaces on its clusters (docs/tenancy.md). */
export function registerSpace(program: Command, output: Output): void {
  const space = program
    .command("space")
    .description(
      "tenant spaces: namespaces created for a tenant, isolated and within its quotas (also: kubectl create namespace through the gateway)",
    );

  addServerOptions(
    space
      .command("create")
      .description(
        "create a space: the namespace with its tenant's policies, quota, limits and role bindings",
      )
      .argument("<name>", "the namespace name (the tenant's naming rules apply)"),
  )
    .option("--tenant <tenant>", "the tenant the space belongs to (you must be one of its owners)")
    .option("--cluster <cluster>", "the cluster to create it on (one the tenant may use)")
    .addOption(outputOption(["name", "json", "yaml"], "name"))
    .action(async (name: string, f: ServerFlags & { tenant?: string; cluster?: string; output: string }) => {
      const tenant = required(f.tenant, "--tenant", "the tenant the space belongs to");
      const cluster = required(f.cluster, "--cluster", "the cluster to create the space on");
      const r = await client(f).call("POST", `${BASE}/clusters/${encodeURIComponent(cluster)}/spaces`, {
        apiVersion: GV,
        kind: "Space",
        metadata: { name },
        spec: { tenant },
      });
      if (f.output === "json") return output.out(JSON.stringify(r.body, null, 2) + "\n");
      if (f.output === "yaml") return output.out(toYaml(r.body));
      output.out(`space/${name} created on cluster ${cluster} for tenant ${tenant}\n`);
    });

  addServerOptions(space.command("list").description("list the spaces you may see (all of them for admins)"))
    .option("--tenant <tenant>", "only this tenant's spaces")
    .option("--cluster <cluster>", "only spaces on this cluster")
    .addOption(outputOption(["table", "json", "yaml"], "table"))
    .action(async (f: ServerFlags & { tenant?: string; cluster?: string; output: string }) => {
      const q = new URLSearchParams();
      if (f.tenant) q.set("tenant", f.tenant);
      if (f.cluster) q.set("cluster", f.cluster);
      const r = await client(f).call("GET", `${BASE}/spaces${q.size > 0 ? `?${q.toString()}` : ""}`);
      const list = r.body as { items: SpaceObject[] };
      if (f.output === "json") return output.out(JSON.stringify(r.body, null, 2) + "\n");
      if (f.output === "yaml") return output.out(toYaml(r.body));
      if (list.items.length === 0) return output.out("No spaces found.\n");
      output.out(
        formatTable(
          ["NAME", "TENANT", "CLUSTER", "CREATED"],
          list.items.map((s) => [
            s.metadata.name,
            s.spec.tenant,
            s.spec.cluster,
            s.metadata.creationTimestamp ?? "",
          ]),
        ),
      );
    });

  addServerOptions(
    space
      .command("delete")
      .description("delete a space: its namespace and everything in it")
      .argument("<name>", "the namespace name"),
  )
    .option("--cluster <cluster>", "the cluster the space is on")
    .action(async (name: string, f: ServerFlags & { cluster?: string }) => {
      const cluster = required(f.cluster, "--cluster", "the cluster the space is on");
      await client(f).call(
        "DELETE",
        `${BASE}/clusters/${encodeURIComponent(cluster)}/spaces/${encodeURIComponent(name)}`,
      );
      output.out(`space/${name} deleted from cluster ${cluster}\n`);
    });
}
