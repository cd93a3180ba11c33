/**
 * `gatehouse rbac who-can VERB RESOURCE [NAME] [-n NS | -A]`: which subjects may do it, laid out as
 * `kubectl who-can` does (RoleBindings, then ClusterRoleBindings, one row per subject); -o json|yaml
 * gives the bindings and the deduplicated subject list.
 */
import type { Command } from "commander";
import { buildIndex, whoCan, type AnyBinding } from "../../../core/rbac/index.js";
import { formatTable, toYaml, type Output } from "../../io.js";
import { outputOption } from "../../program.js";
import { addNamespaceOptions, namespaceOf, parseAction, type ActionOptions } from "./action-args.js";
import { addSourceOptions, loadPolicy, type SourceOptions } from "./source.js";

interface WhoCanOptions extends SourceOptions, ActionOptions {
  output: "table" | "json" | "yaml";
}

function describeAction(verb: string, resource: string, name: string | undefined): string {
  return `${verb} ${resource}${name ? `/${name}` : ""}`;
}

function bindingSummary(b: AnyBinding) {
  return {
    kind: b.kind,
    name: b.metadata.name,
    ...(b.kind === "RoleBinding" ? { namespace: b.metadata.namespace } : {}),
    roleRef: b.roleRef,
    subjects: b.subjects,
  };
}

export function registerWhoCan(rbac: Command, output: Output): void {
  const c = rbac
    .command("who-can")
    .description(
      "list the subjects that may do something (as kube-apiserver's subject locator / kubectl who-can)",
    )
    .argument("<verb>", "get, list, create, ...")
    .argument("<resource>", "RESOURCE[.GROUP] or a /non-resource/url")
    .argument("[name]", "resource name")
    .option("--subresource <sub>", "subresource, e.g. log or scale");
  addSourceOptions(addNamespaceOptions(c))
    .addOption(outputOption(["table", "json", "yaml"], "table"))
    .action(async (verb: string, resource: string, name: string | undefined, opts: WhoCanOptions) => {
      const policy = await loadPolicy(opts);
      const action = parseAction(
        verb,
        resource,
        name,
        namespaceOf(opts, policy.defaultNamespace),
        opts.subresource,
      );
      const result = whoCan(buildIndex(policy.objects, { aggregate: false }), action, {
        allNamespaces: opts.allNamespaces === true,
      });
      for (const e of new Set(result.errors)) output.err(`Warning: ${e}\n`);
      if (opts.output !== "table") {
        const doc = {
          subjects: result.subjects,
          roleBindings: result.roleBindings.map(bindingSummary),
          clusterRoleBindings: result.clusterRoleBindings.map(bindingSummary),
        };
        output.out(opts.output === "json" ? `${JSON.stringify(doc, null, 2)}\n` : toYaml(doc));
        return;
      }
      const what = describeAction(verb, resource, name);
      if (action.kind === "resource") {
        const rows = result.roleBindings.flatMap((b) =>
          b.subjects.map((s) => [b.metadata.name, b.metadata.namespace, s.name, s.kind, s.namespace ?? ""]),
        );
        output.out(
          rows.length === 0
            ? `No subjects found with permissions to ${what} assigned through RoleBindings\n`
            : formatTable(["ROLEBINDING", "NAMESPACE", "SUBJECT", "TYPE", "SA-NAMESPACE"], rows),
        );
        output.out("\n");
      }
      const crows = result.clusterRoleBindings.flatMap((b) =>
        b.subjects.map((s) => [b.metadata.name, s.name, s.kind, s.namespace ?? ""]),
      );
      output.out(
        crows.length === 0
          ? `No subjects found with permissions to ${what} assigned through ClusterRoleBindings\n`
          : formatTable(["CLUSTERROLEBINDING", "SUBJECT", "TYPE", "SA-NAMESPACE"], crows),
      );
    });
}
