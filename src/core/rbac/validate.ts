/**
 * The checks kube-apiserver applies to RBAC objects before it stores them (defaulting in
 * pkg/apis/rbac/v1/defaults.go, validation in pkg/apis/rbac/validation), so that offline analysis
 * refuses what a cluster would refuse instead of silently reading something no cluster could hold.
 * Each function returns field errors ("rules[0].verbs: ..."); empty means valid.
 */
import { validateSelector, type LabelSelector } from "../k8s/labels.js";
import { RBAC_GROUP } from "./types.js";

export type Json = Record<string, unknown>;

export function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A list of strings, or undefined/null (absent); anything else is an error. */
export function stringList(v: unknown, path: string, errs: string[]): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) {
    errs.push(`${path}: must be a list of strings`);
    return [];
  }
  return [...(v as string[])];
}

/** ValidateRBACName: path-segment names ("." and ".." refused, no "/" or "%"). */
export function nameErrors(name: unknown, path: string): string[] {
  if (typeof name !== "string" || name === "") return [`${path}: Required value`];
  if (name === "." || name === "..")
    return [`${path}: Invalid value: ${JSON.stringify(name)}: may not be '${name}'`];
  for (const bad of ["/", "%"]) {
    if (name.includes(bad))
      return [`${path}: Invalid value: ${JSON.stringify(name)}: may not contain '${bad}'`];
  }
  return [];
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function serviceAccountNameErrors(name: string, path: string): string[] {
  if (name.length > 253 || !DNS_SUBDOMAIN.test(name))
    return [
      `${path}: Invalid value: ${JSON.stringify(name)}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
    ];
  return [];
}

/** ValidatePolicyRule. Roles (namespaced) may not name non-resource URLs. */
export function ruleErrors(
  rule: {
    verbs: string[];
    apiGroups: string[];
    resources: string[];
    resourceNames: string[];
    nonResourceURLs: string[];
  },
  namespaced: boolean,
  path: string,
): string[] {
  const errs: string[] = [];
  if (rule.verbs.length === 0)
    errs.push(`${path}.verbs: Required value: verbs must contain at least one value`);
  if (rule.nonResourceURLs.length > 0) {
    if (namespaced)
      errs.push(`${path}.nonResourceURLs: Invalid value: namespaced rules cannot apply to non-resource URLs`);
    if (rule.apiGroups.length > 0 || rule.resources.length > 0 || rule.resourceNames.length > 0)
      errs.push(
        `${path}.nonResourceURLs: Invalid value: rules cannot apply to both regular resources and non-resource URLs`,
      );
    return errs;
  }
  if (rule.apiGroups.length === 0)
    errs.push(`${path}.apiGroups: Required value: resource rules must supply at least one api group`);
  if (rule.resources.length === 0)
    errs.push(`${path}.resources: Required value: resource rules must supply at least one resource`);
  return errs;
}

export function aggregationErrors(
  rule: unknown,
  path: string,
): { selectors: LabelSelector[]; errs: string[] } {
  const errs: string[] = [];
  if (!isObject(rule)) return { selectors: [], errs: [`${path}: must be an object`] };
  const raw = rule["clusterRoleSelectors"];
  if (raw !== undefined && raw !== null && !Array.isArray(raw))
    return { selectors: [], errs: [`${path}.clusterRoleSelectors: must be a list`] };
  const list = (raw ?? []) as unknown[];
  if (list.length === 0)
    errs.push(
      `${path}.clusterRoleSelectors: Required value: at least one clusterRoleSelector required if aggregationRule is non-nil`,
    );
  const selectors: LabelSelector[] = [];
  list.forEach((s, i) => {
    const p = `${path}.clusterRoleSelectors[${i}]`;
    if (!isObject(s)) {
      errs.push(`${p}: must be a label selector`);
      return;
    }
    const sel = s as LabelSelector;
    if (sel.matchLabels !== undefined && sel.matchLabels !== null && !isObject(sel.matchLabels))
      errs.push(`${p}.matchLabels: must be a map of strings`);
    if (
      sel.matchExpressions !== undefined &&
      sel.matchExpressions !== null &&
      !Array.isArray(sel.matchExpressions)
    )
      errs.push(`${p}.matchExpressions: must be a list`);
    else errs.push(...validateSelector(sel, p));
    selectors.push(sel);
  });
  return { selectors, errs };
}

/** Subject defaulting (apiGroup) and ValidateRoleBindingSubject. */
export function subjectErrors(s: Json, namespaced: boolean, path: string): string[] {
  const errs: string[] = [];
  const kind = s["kind"];
  const name = s["name"];
  const apiGroup = s["apiGroup"];
  const namespace = s["namespace"];
  if (typeof name !== "string" || name === "") errs.push(`${path}.name: Required value`);
  if (apiGroup !== undefined && typeof apiGroup !== "string") errs.push(`${path}.apiGroup: must be a string`);
  if (namespace !== undefined && typeof namespace !== "string")
    errs.push(`${path}.namespace: must be a string`);
  switch (kind) {
    case "ServiceAccount":
      if (typeof name === "string" && name !== "")
        errs.push(...serviceAccountNameErrors(name, `${path}.name`));
      if (typeof apiGroup === "string" && apiGroup !== "")
        errs.push(`${path}.apiGroup: Unsupported value: ${JSON.stringify(apiGroup)}: supported values: ""`);
      if (!namespaced && (typeof namespace !== "string" || namespace === ""))
        errs.push(`${path}.namespace: Required value`);
      break;
    case "User":
    case "Group":
      if (typeof apiGroup === "string" && apiGroup !== "" && apiGroup !== RBAC_GROUP)
        errs.push(
          `${path}.apiGroup: Unsupported value: ${JSON.stringify(apiGroup)}: supported values: "${RBAC_GROUP}"`,
        );
      break;
    default:
      errs.push(
        `${path}.kind: Unsupported value: ${JSON.stringify(kind)}: supported values: "ServiceAccount", "User", "Group"`,
      );
  }
  return errs;
}

/** RoleRef defaulting (apiGroup) and validation; ClusterRoleBindings may only refer to ClusterRoles. */
export function roleRefErrors(r: unknown, clusterScoped: boolean, path: string): string[] {
  if (!isObject(r)) return [`${path}: Required value`];
  const errs: string[] = [];
  const apiGroup = r["apiGroup"] ?? "";
  if (apiGroup !== "" && apiGroup !== RBAC_GROUP)
    errs.push(
      `${path}.apiGroup: Unsupported value: ${JSON.stringify(apiGroup)}: supported values: "${RBAC_GROUP}"`,
    );
  const kinds = clusterScoped ? ["ClusterRole"] : ["Role", "ClusterRole"];
  if (typeof r["kind"] !== "string" || !kinds.includes(r["kind"]))
    errs.push(
      `${path}.kind: Unsupported value: ${JSON.stringify(r["kind"])}: supported values: ${kinds.map((k) => `"${k}"`).join(", ")}`,
    );
  errs.push(...nameErrors(r["name"], `${path}.name`));
  return errs;
}
