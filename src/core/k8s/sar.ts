import type { KubeObject, SourcedObject } from "./objects.js";
import { ParseError } from "./objects.js";
import type { RequestAttributes, UserInfo } from "./attributes.js";

/** authorization.k8s.io/v1 SubjectAccessReview spec, as the API defines it. */
export interface SubjectAccessReviewSpec {
  resourceAttributes?: {
    namespace?: string;
    verb?: string;
    group?: string;
    version?: string;
    resource?: string;
    subresource?: string;
    name?: string;
  };
  nonResourceAttributes?: { path?: string; verb?: string };
  user?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
  uid?: string;
}

export interface SubjectAccessReview extends KubeObject {
  spec: SubjectAccessReviewSpec;
  status?: { allowed: boolean; denied?: boolean; reason?: string; evaluationError?: string };
}

const SAR_VERSIONS = new Set(["authorization.k8s.io/v1", "authorization.k8s.io/v1beta1"]);

/**
 * Validate a SubjectAccessReview read from outside and turn its spec into request attributes,
 * as kube-apiserver's SubjectAccessReview REST handler does (resource attributes win when both are set
 * there; we refuse neither-set and both-set as its validation does).
 */
export function sarToAttributes(d: SourcedObject): {
  review: SubjectAccessReview;
  attributes: RequestAttributes;
} {
  const o = d.object;
  if (o.kind !== "SubjectAccessReview" || !SAR_VERSIONS.has(String(o.apiVersion))) {
    throw new ParseError(
      d.source,
      `expected apiVersion authorization.k8s.io/v1, kind SubjectAccessReview; got ${String(o.apiVersion)}, ${String(o.kind)}`,
    );
  }
  const spec = o["spec"];
  if (typeof spec !== "object" || spec === null) throw new ParseError(d.source, "spec is required");
  const s = spec as SubjectAccessReviewSpec;
  const ra = s.resourceAttributes;
  const nra = s.nonResourceAttributes;
  if (!ra && !nra)
    throw new ParseError(
      d.source,
      "spec: exactly one of nonResourceAttributes or resourceAttributes must be specified",
    );
  if (ra && nra)
    throw new ParseError(d.source, "spec: cannot set both nonResourceAttributes and resourceAttributes");
  if (!s.user && (s.groups ?? []).length === 0)
    throw new ParseError(d.source, "spec.user: at least one of user or group must be specified");
  const user = {
    username: s.user ?? "",
    groups: [...(s.groups ?? [])],
    ...(s.uid !== undefined ? { uid: s.uid } : {}),
    ...(s.extra !== undefined ? { extra: s.extra } : {}),
  };
  return { review: o as SubjectAccessReview, attributes: specToAttributes(s, user) };
}

/**
 * The attributes a review spec asks about, for a given user (a SubjectAccessReview names its user in
 * the spec; a SelfSubjectAccessReview is about the caller). The caller checks that exactly one of
 * resourceAttributes or nonResourceAttributes is set.
 */
export function specToAttributes(
  spec: Pick<SubjectAccessReviewSpec, "resourceAttributes" | "nonResourceAttributes">,
  user: UserInfo,
): RequestAttributes {
  const nra = spec.nonResourceAttributes;
  if (nra && !spec.resourceAttributes)
    return { kind: "nonResource", user, verb: nra.verb ?? "", path: nra.path ?? "" };
  const r = spec.resourceAttributes ?? {};
  return {
    kind: "resource",
    user,
    verb: r.verb ?? "",
    namespace: r.namespace ?? "",
    apiGroup: r.group ?? "",
    apiVersion: r.version ?? "",
    resource: r.resource ?? "",
    subresource: r.subresource ?? "",
    name: r.name ?? "",
  };
}
