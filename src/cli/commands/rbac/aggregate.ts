/**
 * `gatehouse rbac aggregate`: the ClusterRoles that have an aggregationRule, with `rules` filled as
 * the Kubernetes aggregation controller would fill them, as a `kind: List`.
 */
import type { Command } from "commander";
import { aggregateClusterRoles, type ClusterRole } from "../../../core/rbac/index.js";
import { toYaml, type Output } from "../../io.js";
import { outputOption } from "../../program.js";
import { addSourceOptions, loadPolicy, type SourceOptions } from "./source.js";

interface AggregateOptions extends SourceOptions {
  output: "json" | "yaml";
}

/** Field order as kube-apiserver prints a ClusterRole. */
function print(r: ClusterRole) {
  const { kind, apiVersion, metadata, aggregationRule, rules, ...rest } = r;
  return { apiVersion, kind, metadata, ...rest, ...(aggregationRule ? { aggregationRule } : {}), rules };
}

export function registerAggregate(rbac: Command, output: Output): void {
  addSourceOptions(
    rbac
      .command("aggregate")
      .description("print aggregated ClusterRoles with the rules the aggregation controller would give them"),
  )
    .addOption(outputOption(["json", "yaml"], "yaml"))
    .action(async (opts: AggregateOptions) => {
      const { objects } = await loadPolicy(opts, { aggregate: false });
      const clusterRoles = objects.filter((o): o is ClusterRole => o.kind === "ClusterRole");
      const result = aggregateClusterRoles(clusterRoles);
      if (!result.converged)
        output.err("Warning: aggregation rules form a cycle; the result depends on order\n");
      const names = new Set(result.aggregated);
      const list = {
        apiVersion: "v1",
        kind: "List",
        metadata: { resourceVersion: "" },
        items: result.clusterRoles.filter((r) => names.has(r.metadata.name)).map(print),
      };
      output.out(opts.output === "json" ? `${JSON.stringify(list, null, 4)}\n` : toYaml(list));
    });
}
