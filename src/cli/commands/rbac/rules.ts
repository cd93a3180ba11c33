/**
 * `gatehouse rbac rules --as USER [-n NS]`: what a SelfSubjectRulesReview would return for the user,
 * printed as `kubectl auth can-i --list` prints it (or the review object with -o json|yaml).
 */
import type { Command } from "commander";
import { buildIndex, kubectlAccessList, subjectRulesReview } from "../../../core/rbac/index.js";
import { formatTable, toYaml, type Output } from "../../io.js";
import { outputOption } from "../../program.js";
import { addAsOptions, userOf, type AsOptions } from "./action-args.js";
import { toSubjectRulesReview } from "./sar-object.js";
import { addSourceOptions, loadPolicy, type SourceOptions } from "./source.js";

interface RulesOptions extends SourceOptions, AsOptions {
  namespace?: string;
  output: "table" | "json" | "yaml";
}

const list = (xs: readonly string[]) => `[${xs.join(" ")}]`;

export function registerRules(rbac: Command, output: Output): void {
  const c = rbac
    .command("rules")
    .description("list what a user may do in a namespace, as `kubectl auth can-i --list --as` shows it")
    .option("-n, --namespace <ns>", 'namespace (default: the context\'s, or "default")');
  addSourceOptions(addAsOptions(c, true))
    .addOption(outputOption(["table", "json", "yaml"], "table"))
    .action(async (opts: RulesOptions) => {
      const policy = await loadPolicy(opts);
      const user = userOf(opts);
      const namespace = opts.namespace ?? policy.defaultNamespace;
      const status = subjectRulesReview(buildIndex(policy.objects, { aggregate: false }), user, namespace);
      if (opts.output === "json") {
        output.out(`${JSON.stringify(toSubjectRulesReview(namespace, user, status), null, 2)}\n`);
        return;
      }
      if (opts.output === "yaml") {
        output.out(toYaml(toSubjectRulesReview(namespace, user, status)));
        return;
      }
      if (status.incomplete || status.evaluationError)
        output.err(`Warning: the list may be incomplete: ${status.evaluationError ?? ""}\n`);
      const rows = kubectlAccessList(status).map((r) => [
        r.resource,
        list(r.nonResourceURLs),
        list(r.resourceNames),
        list(r.verbs),
      ]);
      output.out(formatTable(["Resources", "Non-Resource URLs", "Resource Names", "Verbs"], rows));
    });
}
