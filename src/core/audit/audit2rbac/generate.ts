import type { RequestAttributes } from "../../k8s/index.js";
import { rulesAllow, type Authorizer, type PolicyRule } from "../../rbac/index.js";
import { sortRequests } from "./sort.js";
import type { ObservedRequest } from "./requests.js";

/** How audit2rbac widens what it saw (liggitt/audit2rbac GenerateOptions). */
export interface ExpandOptions {
  /** The same request in two or more namespaces becomes one cluster-wide rule. Default true. */
  expandMultiNamespace: boolean;
  /** The same request on two or more names becomes one rule without resourceNames. Default true. */
  expandMultiName: boolean;
  /** Verbs added to each observed verb. */
  verbExpansions: Readonly<Record<string, readonly string[]>>;
}

/** audit2rbac's verb expansions: what a client doing one of these will usually do next. */
export const DEFAULT_VERB_EXPANSIONS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  watch: ["get", "list"],
  list: ["get", "watch"],
  update: ["get", "patch"],
  patch: ["get", "update"],
});

/** Rules for one subject before compaction: cluster-wide ones and per-namespace ones. */
export interface RawRules {
  cluster: PolicyRule[];
  namespaced: Map<string, PolicyRule[]>;
}

/**
 * audit2rbac's generator (pkg/process.go Generate) for one user's requests: broader requests first;
 * skip what existing access or rules generated so far already allow; otherwise add a rule for the
 * request, cluster-wide when it was cluster-scoped or seen in several namespaces, without a name
 * when seen on several names, namespaced and named otherwise.
 */
export function generateRules(
  requests: readonly ObservedRequest[],
  existing: Authorizer,
  opts: ExpandOptions,
): RawRules {
  const out: RawRules = { cluster: [], namespaced: new Map() };
  const sorted = sortRequests(requests.map((r) => r.attributes));
  for (const request of sorted) {
    if (existing.authorize(request).decision === "allow") continue;
    if (generatedAllows(out, request)) continue;
    if (request.kind === "nonResource") {
      out.cluster.push({ verbs: [request.verb], nonResourceURLs: [request.path] });
      continue;
    }
    let { namespace, name } = request;
    if ((namespace !== "" && opts.expandMultiNamespace) || (name !== "" && opts.expandMultiName)) {
      for (const other of sorted) {
        if (other.kind !== "resource" || !sameOperation(request, other, opts)) continue;
        if (opts.expandMultiNamespace && other.namespace !== "" && other.namespace !== request.namespace)
          namespace = "";
        if (opts.expandMultiName && other.name !== "" && other.name !== request.name) name = "";
      }
    }
    const rule = resourceRule({ ...request, namespace, name }, opts);
    if (namespace === "") out.cluster.push(rule);
    else out.namespaced.set(namespace, [...(out.namespaced.get(namespace) ?? []), rule]);
  }
  return out;
}

/** Whether the rules generated so far allow a request (a RoleBinding grants in its namespace only). */
export function generatedAllows(rules: RawRules, a: RequestAttributes): boolean {
  if (rulesAllow(a, rules.cluster)) return true;
  return (
    a.kind === "resource" && a.namespace !== "" && rulesAllow(a, rules.namespaced.get(a.namespace) ?? [])
  );
}

type ResourceAttrs = RequestAttributes & { kind: "resource" };

/**
 * Equal but for namespace and name (each ignored only when its expansion is on); audit2rbac
 * compares whole attribute records, so the API version and the user's groups count too.
 */
function sameOperation(a: ResourceAttrs, b: ResourceAttrs, opts: ExpandOptions): boolean {
  return (
    a.verb === b.verb &&
    a.apiGroup === b.apiGroup &&
    a.apiVersion === b.apiVersion &&
    a.resource === b.resource &&
    a.subresource === b.subresource &&
    (opts.expandMultiNamespace || a.namespace === b.namespace) &&
    (opts.expandMultiName || a.name === b.name) &&
    a.user.username === b.user.username &&
    a.user.groups.length === b.user.groups.length &&
    a.user.groups.every((g, i) => g === b.user.groups[i])
  );
}

function resourceRule(a: ResourceAttrs, opts: ExpandOptions): PolicyRule {
  const verbs = [a.verb, ...(opts.verbExpansions[a.verb] ?? [])];
  const resource = a.subresource === "" ? a.resource : `${a.resource}/${a.subresource}`;
  return {
    verbs,
    apiGroups: [a.apiGroup],
    resources: [resource],
    ...(a.name !== "" ? { resourceNames: [a.name] } : {}),
  };
}
