/**
 * `gatehouse rbac can-i VERB RESOURCE [NAME] --as USER`: `kubectl auth can-i` answered offline.
 * Prints "yes", or "no" (with the reason when RBAC gives one) and exits 1, as kubectl does.
 * -o json|yaml prints the SubjectAccessReview with its status instead.
 */
import type { Command } from "commander";
import { buildIndex, reviewStatus } from "../../../core/rbac/index.js";
import { NegativeAnswer } from "../../errors.js";
import { toYaml, type Output } from "../../io.js";
import { outputOption } from "../../program.js";
import {
  addAsOptions,
  addNamespaceOptions,
  namespaceOf,
  parseAction,
  userOf,
  type ActionOptions,
  type AsOptions,
} from "./action-args.js";
import { addSourceOptions, loadPolicy, type SourceOptions } from "./source.js";
import { toSubjectAccessReview } from "./sar-object.js";

interface CanIOptions extends SourceOptions, ActionOptions, AsOptions {
  output: "table" | "json" | "yaml";
  quiet?: boolean;
}

export function registerCanI(rbac: Command, output: Output): void {
  const c = rbac
    .command("can-i")
    .description(
      "check whether a user may do something, as `kubectl auth can-i --as` would answer (exit 1 for no)",
    )
    .argument("<verb>", "get, list, create, ...")
    .argument("<resource>", "RESOURCE[.GROUP][/NAME] or a /non-resource/url")
    .argument("[name]", "resource name")
    .option("--subresource <sub>", "subresource, e.g. log or scale")
    .option("-q, --quiet", "print nothing; only the exit code answers");
  addSourceOptions(addNamespaceOptions(addAsOptions(c, true)))
    .addOption(outputOption(["table", "json", "yaml"], "table"))
    .action(async (verb: string, resource: string, name: string | undefined, opts: CanIOptions) => {
      const policy = await loadPolicy(opts);
      const user = userOf(opts);
      const action = parseAction(
        verb,
        resource,
        name,
        namespaceOf(opts, policy.defaultNamespace),
        opts.subresource,
      );
      const status = reviewStatus(buildIndex(policy.objects, { aggregate: false }), { ...action, user });
      if (!opts.quiet) {
        if (opts.output === "json")
          output.out(`${JSON.stringify(toSubjectAccessReview(action, user, status), null, 2)}\n`);
        else if (opts.output === "yaml") output.out(toYaml(toSubjectAccessReview(action, user, status)));
        else output.out(status.allowed ? "yes\n" : `no${status.reason ? ` - ${status.reason}` : ""}\n`);
      }
      if (!status.allowed) throw new NegativeAnswer();
    });
}
