import type { RequestAttributes } from "../../k8s/index.js";
import { codePointCompare } from "./compact.js";

/**
 * audit2rbac's request order (pkg/util.go sortRequests), stable: non-resource before resource;
 * cluster-scoped before namespaced; unnamed before named; list before get; then by group,
 * resource, subresource, namespace, name and verb (non-resource requests by verb and path).
 * Broader requests come first so that the rules they produce cover narrower ones.
 */
export function sortRequests(requests: readonly RequestAttributes[]): RequestAttributes[] {
  return requests
    .map((r, i) => ({ r, i }))
    .sort((x, y) => compareRequests(x.r, y.r) || x.i - y.i)
    .map((x) => x.r);
}

function compareRequests(a: RequestAttributes, b: RequestAttributes): number {
  if (a.kind !== b.kind) return a.kind === "nonResource" ? -1 : 1;
  if (a.kind === "nonResource" && b.kind === "nonResource") {
    return codePointCompare(a.verb, b.verb) || codePointCompare(a.path, b.path);
  }
  if (a.kind !== "resource" || b.kind !== "resource") return 0;
  const clusterScoped = (r: typeof a): number => (r.namespace === "" ? 0 : 1);
  const unnamed = (r: typeof a): number => (r.name === "" ? 0 : 1);
  return (
    clusterScoped(a) - clusterScoped(b) ||
    unnamed(a) - unnamed(b) ||
    listBeforeGet(a.verb, b.verb) ||
    codePointCompare(a.apiGroup, b.apiGroup) ||
    codePointCompare(a.resource, b.resource) ||
    codePointCompare(a.subresource, b.subresource) ||
    codePointCompare(a.namespace, b.namespace) ||
    codePointCompare(a.name, b.name) ||
    codePointCompare(a.verb, b.verb)
  );
}

function listBeforeGet(a: string, b: string): number {
  if (a === "list" && b === "get") return -1;
  if (a === "get" && b === "list") return 1;
  return 0;
}
