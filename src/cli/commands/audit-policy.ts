import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { parsePolicy } from "../../core/audit/index.js";
import { ParseError } from "../../core/k8s/index.js";
import { addServerOptions, GatehouseClient, type ServerFlags } from "../client.js";
import { CliError, NegativeAnswer } from "../errors.js";
import { formatTable, parseText, readInput, toYaml, type Output } from "../io.js";
import { outputOption } from "../program.js";

const BASE = "/apis/gatehouse.io/v1alpha1/auditpolicies";
const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

interface AuditPolicyObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; resourceVersion?: string; creationTimestamp?: string };
  spec: { rules?: unknown[]; omitStages?: string[]; omitManagedFields?: boolean };
}

const client = (f: ServerFlags): GatehouseClient =>
  GatehouseClient.fromFlags(f, () => readFileSync(0, "utf8"), process.env);

function clusterName(name: string): string {
  if (!NAME.test(name)) throw new CliError(`${JSON.stringify(name)} is not a cluster name`);
  return name;
}

/** GET one AuditPolicy, or undefined when the cluster has none. */
async function getPolicy(c: GatehouseClient, cluster: string): Promise<AuditPolicyObject | undefined> {
  try {
    return (await c.call("GET", `${BASE}/${cluster}`)).body as AuditPolicyObject;
  } catch (e) {
    if (e instanceof CliError && / not found$/.test(e.message)) return undefined;
    throw e;
  }
}

/**
 * `gatehouse audit policy set|get|delete|list`: the per-cluster audit policies (AuditPolicy
 * objects named after their cluster). A cluster's policy replaces the global one
 * (--audit-policy-file) for requests through the gateway to that cluster.
 */
export function registerAuditPolicy(audit: Command, output: Output): void {
  const policy = audit
    .command("policy")
    .description(
      "Per-cluster audit policies: a cluster's policy replaces the global --audit-policy-file for\n" +
        "requests through the gateway to that cluster (stored as gatehouse.io AuditPolicy objects)",
    );

  addServerOptions(
    policy
      .command("set")
      .argument("<cluster>", "the cluster the policy applies to")
      .description(
        "Set a cluster's audit policy from an audit.k8s.io/v1 Policy file (as kube-apiserver's\n" +
          "--audit-policy-file takes it; - or no -f reads standard input). It is checked here and by the\n" +
          "server with kube-apiserver's rules; a policy with no rules is refused.",
      ),
  )
    .option("-f, --filename <file>", "the Policy file (YAML or JSON)")
    .action(async (name: string, f: ServerFlags & { filename?: string }) => {
      const cluster = clusterName(name);
      const { text, name: source } = readInput(f.filename);
      const docs = parseText(text, source);
      const [doc] = docs;
      if (!doc || docs.length !== 1) throw new CliError(`${source}: expected one audit.k8s.io/v1 Policy`);
      try {
        parsePolicy(doc);
      } catch (e) {
        if (e instanceof ParseError) throw new CliError(e.message);
        throw e;
      }
      const { apiVersion: _a, kind: _k, metadata: _m, ...spec } = doc.object;
      const c = client(f);
      const current = await getPolicy(c, cluster);
      const body: AuditPolicyObject = {
        apiVersion: "gatehouse.io/v1alpha1",
        kind: "AuditPolicy",
        metadata: {
          name: cluster,
          ...(current?.metadata.resourceVersion ? { resourceVersion: current.metadata.resourceVersion } : {}),
        },
        spec,
      };
      if (current) await c.call("PUT", `${BASE}/${cluster}`, body);
      else await c.call("POST", BASE, body);
      output.out(`auditpolicy.gatehouse.io/${cluster} ${current ? "configured" : "created"}\n`);
    });

  addServerOptions(
    policy
      .command("get")
      .argument("<cluster>", "the cluster")
      .description(
        "Print a cluster's audit policy as an audit.k8s.io/v1 Policy (what `set -f` takes). Exits 1\n" +
          "when the cluster has none (its requests use the global policy).",
      ),
  )
    .addOption(outputOption(["yaml", "json"], "yaml"))
    .action(async (name: string, f: ServerFlags & { output: string }) => {
      const cluster = clusterName(name);
      const p = await getPolicy(client(f), cluster);
      if (!p) {
        output.err(`cluster ${cluster} has no audit policy of its own: it uses the global policy\n`);
        throw new NegativeAnswer();
      }
      const doc = { apiVersion: "audit.k8s.io/v1", kind: "Policy", ...p.spec };
      output.out(f.output === "json" ? JSON.stringify(doc, null, 2) + "\n" : toYaml(doc));
    });

  addServerOptions(
    policy
      .command("delete")
      .argument("<cluster>", "the cluster")
      .description("Remove a cluster's audit policy: its requests use the global policy again."),
  ).action(async (name: string, f: ServerFlags) => {
    const cluster = clusterName(name);
    await client(f).call("DELETE", `${BASE}/${cluster}`);
    output.out(`auditpolicy.gatehouse.io/${cluster} deleted\n`);
  });

  addServerOptions(policy.command("list").description("List the clusters that have their own audit policy."))
    .addOption(outputOption(["table", "json", "yaml"], "table"))
    .action(async (f: ServerFlags & { output: string }) => {
      const c = client(f);
      const items: AuditPolicyObject[] = [];
      let cont = "";
      do {
        const q = cont ? `?limit=500&continue=${encodeURIComponent(cont)}` : "?limit=500";
        const page = (await c.call("GET", `${BASE}${q}`)).body as {
          items: AuditPolicyObject[];
          metadata: { continue?: string };
        };
        items.push(...page.items);
        cont = page.metadata.continue ?? "";
      } while (cont !== "");
      if (f.output === "json")
        output.out(JSON.stringify({ kind: "List", apiVersion: "v1", items }, null, 2) + "\n");
      else if (f.output === "yaml") output.out(toYaml({ kind: "List", apiVersion: "v1", items }));
      else
        output.out(
          formatTable(
            ["CLUSTER", "RULES", "OMIT-STAGES", "CREATED"],
            items.map((p) => [
              p.metadata.name,
              String(p.spec.rules?.length ?? 0),
              (p.spec.omitStages ?? []).join(",") || "<none>",
              p.metadata.creationTimestamp ?? "",
            ]),
          ),
        );
    });
}
