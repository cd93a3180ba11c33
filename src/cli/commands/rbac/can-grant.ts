/**
 * `gatehouse rbac can-grant --as USER -f FILE`: would kube-apiserver accept these Roles, ClusterRoles
 * and bindings from USER (for CI, before a GitOps change is merged)? See checkApply in the core:
 * objects in file order, the request itself and then escalation checked for each. Exit 0 when every
 * object is accepted, 1 otherwise.
 */
import type { Command } from "commander";
import { buildIndex, checkApply, compactString, type ApplyVerdict } from "../../../core/rbac/index.js";
import { NegativeAnswer } from "../../errors.js";
import { readObjectPaths, type Output } from "../../io.js";
import { outputOption } from "../../program.js";
import { addAsOptions, userOf, type AsOptions } from "./action-args.js";
import { addSourceOptions, loadPolicy, rbacObjectsFrom, type SourceOptions } from "./source.js";

interface CanGrantOptions extends SourceOptions, AsOptions {
  filename: string[];
  output: "table" | "json";
}

export function registerCanGrant(rbac: Command, output: Output): void {
  const c = rbac
    .command("can-grant")
    .description(
      "check that a user may create the Roles, ClusterRoles and bindings in FILE without escalating (exit 1 if not)",
    )
    .requiredOption("-f, --filename <path...>", "files or folders with the RBAC objects to create");
  addSourceOptions(addAsOptions(c, true))
    .addOption(outputOption(["table", "json"], "table"))
    .action(async (opts: CanGrantOptions) => {
      const policy = await loadPolicy(opts);
      const user = userOf(opts);
      const wanted = rbacObjectsFrom(readObjectPaths(opts.filename));
      const verdicts = checkApply(buildIndex(policy.objects, { aggregate: false }), user, wanted);
      if (opts.output === "json") output.out(verdicts.map((v) => `${JSON.stringify(v)}\n`).join(""));
      else output.out(verdicts.map(describe).join(""));
      if (verdicts.some((v) => !v.allowed)) throw new NegativeAnswer();
    });
}

function describe(v: ApplyVerdict): string {
  const m = v.object.metadata;
  const what = `${v.object.kind} ${m.namespace !== undefined ? `${m.namespace}/` : ""}${m.name}`;
  if (v.allowed) return `allowed  ${what} (${v.reason})\n`;
  const lines = [`refused  ${what}`, `  ${v.reason.split("\n")[0] ?? ""}`];
  for (const r of v.uncovered) lines.push(`  not held: ${compactString(r)}`);
  return `${lines.join("\n")}\n`;
}
