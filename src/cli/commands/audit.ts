import type { Command } from "commander";
import { evaluatePolicy, parsePolicy, type Policy } from "../../core/audit/index.js";
import {
  ParseError,
  sarToAttributes,
  type RequestAttributes,
  type SourcedObject,
} from "../../core/k8s/index.js";
import { CliError } from "../errors.js";
import { parseText, readInput, type Output } from "../io.js";

/**
 * `gatehouse audit ...`: one group, one small function per subcommand. Subcommands that read the
 * Gatehouse store (query, tail, verify) are added here beside policy-check.
 */
export function registerAudit(program: Command, output: Output): void {
  const audit = program
    .command("audit")
    .description("Kubernetes audit: check audit policies, read and verify the Gatehouse audit log");
  registerPolicyCheck(audit, output);
}

function registerPolicyCheck(audit: Command, output: Output): void {
  audit
    .command("policy-check")
    .description(
      "Say what an audit.k8s.io/v1 Policy would record for each request.\n" +
        "Requests are authorization.k8s.io/v1 SubjectAccessReviews (YAML documents, JSON, or one JSON\n" +
        "object per line) read from --requests or standard input. Prints one JSON object per request,\n" +
        "in input order: level, omitStages (sorted), omitManagedFields and the index of the matching rule.",
    )
    .requiredOption("--policy <file>", "the audit policy file")
    .option("--requests <file>", "SubjectAccessReviews to check (default: standard input)")
    .action((opts: { policy: string; requests?: string }) => {
      if (opts.policy === "-" && (opts.requests === undefined || opts.requests === "-")) {
        throw new CliError("--policy and --requests cannot both be standard input");
      }
      const policy = readPolicy(opts.policy);
      const input = readInput(opts.requests);
      // Read and validate every request before printing anything: bad input prints nothing.
      const requests = parseText(input.text, input.name).map(toAttributes);
      const lines = requests.map((a) => {
        const c = evaluatePolicy(policy, a);
        return JSON.stringify({
          level: c.level,
          omitStages: c.omitStages,
          omitManagedFields: c.omitManagedFields,
          rule: c.rule ?? null,
        });
      });
      if (lines.length > 0) output.out(lines.join("\n") + "\n");
    });
}

/** Read a file holding exactly one audit Policy. */
export function readPolicy(file: string): Policy {
  const input = readInput(file);
  const docs = parseText(input.text, input.name);
  const [doc, extra] = docs;
  if (!doc) throw new CliError(`${input.name}: no audit policy found`);
  if (extra) throw new CliError(`${input.name}: expected one audit Policy, found ${docs.length} documents`);
  return cliParse(() => parsePolicy(doc));
}

function toAttributes(d: SourcedObject): RequestAttributes {
  return cliParse(() => sarToAttributes(d).attributes);
}

/** Run a core parser, turning its ParseError (which names file, document and line) into a usage error. */
function cliParse<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof ParseError) throw new CliError(e.message);
    throw e;
  }
}
