/**
 * `gatehouse rbac review`: answer SubjectAccessReviews as kube-apiserver with
 * --authorization-mode=RBAC would, one JSON object per line in input order (or YAML documents).
 * Every review is read and validated before the first answer is printed.
 */
import type { Command } from "commander";
import { ParseError, sarToAttributes } from "../../../core/k8s/index.js";
import { buildIndex, reviewStatus } from "../../../core/rbac/index.js";
import { CliError } from "../../errors.js";
import { parseText, readInput, toYaml, type Output } from "../../io.js";
import { outputOption } from "../../program.js";
import { addSourceOptions, loadPolicy, type SourceOptions } from "./source.js";

interface ReviewOptions extends SourceOptions {
  reviews?: string;
  output: "json" | "yaml";
}

export function registerReview(rbac: Command, output: Output): void {
  addSourceOptions(
    rbac
      .command("review")
      .description(
        "answer SubjectAccessReviews (authorization.k8s.io/v1) as kube-apiserver's RBAC authorizer would,\n" +
          "one JSON object per line, in input order",
      )
      .option("--reviews <file>", "SubjectAccessReviews: YAML, JSON or JSON lines (default: standard input)"),
  )
    .addOption(outputOption(["json", "yaml"], "json"))
    .action(async (opts: ReviewOptions) => {
      const policy = await loadPolicy(opts);
      const { text, name } = readInput(opts.reviews);
      const reviews = parseText(text, name).map((d) => {
        try {
          return sarToAttributes(d);
        } catch (e) {
          if (e instanceof ParseError) throw new CliError(e.message);
          throw e;
        }
      });
      const index = buildIndex(policy.objects, { aggregate: false });
      const answered = reviews.map(({ review, attributes }) => ({
        ...review,
        status: reviewStatus(index, attributes),
      }));
      if (opts.output === "yaml") output.out(answered.map((r) => `---\n${toYaml(r)}`).join(""));
      else output.out(answered.map((r) => `${JSON.stringify(r)}\n`).join(""));
    });
}
