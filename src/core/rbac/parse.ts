/**
 * Turn parsed documents into validated RBAC objects. Non-RBAC objects are skipped. An RBAC object
 * that a cluster would refuse (unknown apiVersion, empty verbs, bad roleRef or subject, ...) stops
 * parsing with a ParseError naming its file, document and line: nothing is returned partially.
 *
 * Accepted versions: rbac.authorization.k8s.io/v1 and v1beta1 (the same schema). v1alpha1, removed
 * in Kubernetes 1.22 and shaped differently, is refused.
 */
import type { LabelSelector } from "../k8s/labels.js";
import { groupVersion, ParseError, type SourcedObject } from "../k8s/objects.js";
import {
  RBAC_GROUP,
  type PolicyRule,
  type RbacMeta,
  type RbacObject,
  type RoleRef,
  type SourcedRbacObject,
  type Subject,
  type SubjectKind,
} from "./types.js";
import {
  aggregationErrors,
  isObject,
  nameErrors,
  roleRefErrors,
  ruleErrors,
  stringList,
  subjectErrors,
  type Json,
} from "./validate.js";

const RBAC_KINDS = new Set(["Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"]);
const VERSIONS = new Set(["v1", "v1beta1"]);

export interface ParseRbacOptions {
  /** Namespace for a Role or RoleBinding that names none, as `kubectl apply` uses the context's. Default "default". */
  defaultNamespace?: string;
}

export function parseRbacObjects(
  docs: readonly SourcedObject[],
  opts: ParseRbacOptions = {},
): SourcedRbacObject[] {
  const out: SourcedRbacObject[] = [];
  for (const d of docs) {
    const o = parseRbacObject(d, opts);
    if (o) out.push({ object: o, source: d.source });
  }
  return out;
}

/** One document: the RBAC object, or null when it is not an RBAC object. */
export function parseRbacObject(d: SourcedObject, opts: ParseRbacOptions = {}): RbacObject | null {
  const o = d.object;
  const { group, version } = groupVersion(typeof o.apiVersion === "string" ? o.apiVersion : undefined);
  const kind = typeof o.kind === "string" ? o.kind : "";
  if (group !== RBAC_GROUP) {
    // A kind called "Role" in another API group (a CRD's) is not ours; one with no group is a mistake.
    if (RBAC_KINDS.has(kind) && !group.includes("."))
      throw new ParseError(
        d.source,
        `${kind}: unknown apiVersion ${JSON.stringify(o.apiVersion ?? "")}; expected ${RBAC_GROUP}/v1`,
      );
    return null;
  }
  if (!VERSIONS.has(version))
    throw new ParseError(
      d.source,
      `unknown apiVersion ${JSON.stringify(o.apiVersion)}; expected ${RBAC_GROUP}/v1`,
    );
  if (!RBAC_KINDS.has(kind))
    throw new ParseError(d.source, `unknown kind ${JSON.stringify(kind)} in ${RBAC_GROUP}`);

  const errs: string[] = [];
  const meta = isObject(o.metadata) ? (o.metadata as Json) : {};
  errs.push(...nameErrors(meta["name"], "metadata.name"));
  const namespaced = kind === "Role" || kind === "RoleBinding";
  const namespace = namespaced ? namespaceOf(meta, opts, errs) : undefined;
  const metadata = cleanMeta(meta, namespace, errs);
  const apiVersion = o.apiVersion as string;
  const label = `${kind} ${JSON.stringify(meta["name"] ?? "")}`;

  let result: RbacObject;
  switch (kind) {
    case "Role":
      result = {
        kind,
        apiVersion,
        metadata: { ...metadata, namespace: namespace ?? "" },
        rules: rules(o["rules"], true, errs),
      };
      break;
    case "ClusterRole": {
      const base = { kind, apiVersion, metadata, rules: rules(o["rules"], false, errs) } as const;
      const ag = o["aggregationRule"];
      if (ag === undefined || ag === null) result = base;
      else {
        const { selectors, errs: agErrs } = aggregationErrors(ag, "aggregationRule");
        errs.push(...agErrs);
        result = { ...base, aggregationRule: { clusterRoleSelectors: selectors as LabelSelector[] } };
      }
      break;
    }
    case "RoleBinding":
      result = {
        kind,
        apiVersion,
        metadata: { ...metadata, namespace: namespace ?? "" },
        subjects: subjects(o["subjects"], true, errs),
        roleRef: roleRef(o["roleRef"], false, errs),
      };
      break;
    default:
      result = {
        kind: "ClusterRoleBinding",
        apiVersion,
        metadata,
        subjects: subjects(o["subjects"], false, errs),
        roleRef: roleRef(o["roleRef"], true, errs) as RoleRef & { kind: "ClusterRole" },
      };
  }
  if (errs.length > 0) throw new ParseError(d.source, `${label} is invalid: ${errs.join("; ")}`);
  return result;
}

function namespaceOf(meta: Json, opts: ParseRbacOptions, errs: string[]): string {
  const ns = meta["namespace"];
  if (ns === undefined || ns === null || ns === "") return opts.defaultNamespace ?? "default";
  if (typeof ns !== "string") {
    errs.push("metadata.namespace: must be a string");
    return "";
  }
  return ns;
}

function cleanMeta(meta: Json, namespace: string | undefined, errs: string[]): RbacMeta {
  const labels = meta["labels"];
  if (
    labels !== undefined &&
    labels !== null &&
    (!isObject(labels) || !Object.values(labels).every((v) => typeof v === "string"))
  )
    errs.push("metadata.labels: must be a map of strings");
  const out: RbacMeta = { ...meta, name: typeof meta["name"] === "string" ? meta["name"] : "" };
  if (namespace !== undefined) out.namespace = namespace;
  else delete out.namespace;
  return out;
}

function rules(v: unknown, namespaced: boolean, errs: string[]): PolicyRule[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    errs.push("rules: must be a list");
    return [];
  }
  return v.map((r: unknown, i) => {
    const p = `rules[${i}]`;
    if (!isObject(r)) {
      errs.push(`${p}: must be an object`);
      return { verbs: [] };
    }
    const rule = {
      verbs: stringList(r["verbs"], `${p}.verbs`, errs),
      apiGroups: stringList(r["apiGroups"], `${p}.apiGroups`, errs),
      resources: stringList(r["resources"], `${p}.resources`, errs),
      resourceNames: stringList(r["resourceNames"], `${p}.resourceNames`, errs),
      nonResourceURLs: stringList(r["nonResourceURLs"], `${p}.nonResourceURLs`, errs),
    };
    errs.push(...ruleErrors(rule, namespaced, p));
    return compactRule(rule);
  });
}

/** The API's JSON form: empty lists are omitted (omitempty). */
export function compactRule(r: PolicyRule): PolicyRule {
  const out: { -readonly [K in keyof PolicyRule]: PolicyRule[K] } = { verbs: [...r.verbs] };
  if (r.apiGroups && r.apiGroups.length > 0) out.apiGroups = [...r.apiGroups];
  if (r.resources && r.resources.length > 0) out.resources = [...r.resources];
  if (r.resourceNames && r.resourceNames.length > 0) out.resourceNames = [...r.resourceNames];
  if (r.nonResourceURLs && r.nonResourceURLs.length > 0) out.nonResourceURLs = [...r.nonResourceURLs];
  return out;
}

function subjects(v: unknown, namespaced: boolean, errs: string[]): Subject[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    errs.push("subjects: must be a list");
    return [];
  }
  const out: Subject[] = [];
  v.forEach((s: unknown, i) => {
    const p = `subjects[${i}]`;
    if (!isObject(s)) {
      errs.push(`${p}: must be an object`);
      return;
    }
    const e = subjectErrors(s, namespaced, p);
    errs.push(...e);
    if (e.length > 0) return;
    const kind = s["kind"] as SubjectKind;
    const subject: Subject = {
      kind,
      name: s["name"] as string,
      apiGroup: kind === "ServiceAccount" ? "" : RBAC_GROUP,
    };
    if (typeof s["namespace"] === "string" && s["namespace"] !== "") subject.namespace = s["namespace"];
    out.push(subject);
  });
  return out;
}

function roleRef(v: unknown, clusterScoped: boolean, errs: string[]): RoleRef {
  const e = roleRefErrors(v, clusterScoped, "roleRef");
  errs.push(...e);
  const r = isObject(v) ? v : {};
  return {
    apiGroup: RBAC_GROUP,
    kind: r["kind"] === "Role" ? "Role" : "ClusterRole",
    name: typeof r["name"] === "string" ? r["name"] : "",
  };
}
