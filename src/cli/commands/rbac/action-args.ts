/**
 * Turning kubectl-style arguments into what RBAC evaluates: `VERB RESOURCE[.GROUP][/NAME]` or
 * `VERB /non-resource-url`, the namespace (-n, the context's, or none with -A), and the user
 * (`--as`, `--as-group`, with the groups kube-apiserver's impersonation adds).
 *
 * Offline there is no discovery: resources are taken as written (plural, lower case, "deployments.apps"),
 * not resolved from short names or kinds, and the namespace is sent even for cluster-scoped
 * resources, as kubectl does.
 */
import { Option, type Command } from "commander";
import type { UserInfo } from "../../../core/k8s/index.js";
import { impersonatedUser, type Action } from "../../../core/rbac/index.js";
import { CliError } from "../../errors.js";

export interface ActionOptions {
  namespace?: string;
  allNamespaces?: boolean;
  subresource?: string;
}

export function addNamespaceOptions(c: Command): Command {
  return c
    .addOption(new Option("-n, --namespace <ns>", 'namespace (default: the context\'s, or "default")'))
    .addOption(new Option("-A, --all-namespaces", "all namespaces"));
}

export function namespaceOf(opts: ActionOptions, dflt: string): string {
  if (opts.allNamespaces && opts.namespace !== undefined) throw new CliError("use either -n or -A, not both");
  return opts.allNamespaces ? "" : (opts.namespace ?? dflt);
}

/** kubectl can-i's reading of RESOURCE: "/path" is a URL; else resource[.group][/name]. */
export function parseAction(
  verb: string,
  resourceArg: string,
  name: string | undefined,
  namespace: string,
  subresource: string | undefined,
): Action {
  if (resourceArg.startsWith("/")) {
    if (name !== undefined || subresource !== undefined)
      throw new CliError("a non-resource URL takes no resource name or subresource");
    return { kind: "nonResource", verb, path: resourceArg };
  }
  const slash = resourceArg.indexOf("/");
  const gr = (slash < 0 ? resourceArg : resourceArg.slice(0, slash)).toLowerCase();
  const inlineName = slash < 0 ? undefined : resourceArg.slice(slash + 1);
  if (inlineName !== undefined && name !== undefined)
    throw new CliError("give the resource name once: RESOURCE/NAME or RESOURCE NAME");
  const dot = gr === "*" ? -1 : gr.indexOf(".");
  return {
    kind: "resource",
    verb,
    namespace,
    apiGroup: dot < 0 ? "" : gr.slice(dot + 1),
    apiVersion: "*",
    resource: dot < 0 ? gr : gr.slice(0, dot),
    subresource: subresource ?? "",
    name: inlineName ?? name ?? "",
  };
}

export interface AsOptions {
  as?: string;
  asGroup?: string[];
}

export function addAsOptions(c: Command, required: boolean): Command {
  const as = new Option(
    "--as <user>",
    "the user to evaluate for (service accounts: system:serviceaccount:NS:NAME)",
  );
  if (required) as.makeOptionMandatory();
  return c.addOption(as).addOption(new Option("--as-group <group...>", "a group of that user (repeatable)"));
}

/** The user as kube-apiserver would see `--as USER --as-group G...` after impersonation. */
export function userOf(opts: AsOptions): UserInfo {
  if (opts.as === undefined || opts.as === "") throw new CliError("--as USER is required");
  return impersonatedUser(opts.as, opts.asGroup ?? []);
}
