import { ParseError, type SourcedObject } from "../k8s/index.js";
import {
  AUDIT_API_VERSION,
  LEVELS,
  STAGES,
  type GroupResources,
  type Level,
  type Policy,
  type PolicyRule,
  type Stage,
} from "./types.js";

/**
 * Read an audit.k8s.io/v1 Policy as kube-apiserver's policy reader does (decode, ValidatePolicy,
 * refuse zero rules), collecting every problem with its field path. Gatehouse is stricter in one way:
 * unknown fields are refused, because a misspelt field ("namespace:" for "namespaces:") would
 * otherwise silently widen a rule.
 */
export function parsePolicy(d: SourcedObject): Policy {
  const o = d.object;
  if (o.apiVersion !== AUDIT_API_VERSION || o.kind !== "Policy") {
    throw new ParseError(
      d.source,
      `expected apiVersion ${AUDIT_API_VERSION}, kind Policy; got ${String(o.apiVersion)}, ${String(o.kind)}`,
    );
  }
  const errs: string[] = [];
  unknownFields(o, ["apiVersion", "kind", "metadata", "rules", "omitStages", "omitManagedFields"], "", errs);
  const omitStages = stages(o["omitStages"], "omitStages", errs);
  const omitManagedFields = optionalBool(o["omitManagedFields"], "omitManagedFields", errs) ?? false;
  const rawRules = o["rules"];
  const rules: PolicyRule[] = [];
  if (rawRules !== undefined && rawRules !== null && !Array.isArray(rawRules)) {
    errs.push("rules: must be a list");
  } else {
    ((rawRules ?? []) as unknown[]).forEach((r, i) => {
      const rule = parseRule(r, `rules[${i}]`, errs);
      if (rule) rules.push(rule);
    });
    if (((rawRules ?? []) as unknown[]).length === 0) errs.push("rules: a policy with 0 rules is refused");
  }
  if (errs.length > 0) throw new ParseError(d.source, `invalid audit policy: ${errs.join("; ")}`);
  return Object.freeze({ rules: Object.freeze(rules), omitStages, omitManagedFields });
}

const RULE_FIELDS = [
  "level",
  "users",
  "userGroups",
  "verbs",
  "resources",
  "namespaces",
  "nonResourceURLs",
  "omitStages",
  "omitManagedFields",
];

function parseRule(r: unknown, path: string, errs: string[]): PolicyRule | undefined {
  if (!isRecord(r)) {
    errs.push(`${path}: must be an object`);
    return undefined;
  }
  unknownFields(r, RULE_FIELDS, `${path}.`, errs);
  const level = parseLevel(r["level"], `${path}.level`, errs);
  const nonResourceURLs = strings(r["nonResourceURLs"], `${path}.nonResourceURLs`, errs);
  nonResourceURLs.forEach((u, i) => {
    if (u === "*") return;
    const p = `${path}.nonResourceURLs[${i}]`;
    if (!u.startsWith("/"))
      errs.push(`${p}: Invalid value: ${q(u)}: non-resource URL rules must begin with a '/' character`);
    if (u !== "" && u.slice(0, -1).includes("*"))
      errs.push(
        `${p}: Invalid value: ${q(u)}: non-resource URL wildcards '*' must be the final character of the rule`,
      );
  });
  const resources = groupResources(r["resources"], `${path}.resources`, errs);
  const namespaces = strings(r["namespaces"], `${path}.namespaces`, errs);
  if (nonResourceURLs.length > 0 && (resources.length > 0 || namespaces.length > 0)) {
    errs.push(
      `${path}.nonResourceURLs: Invalid value: rules cannot apply to both regular resources and non-resource URLs`,
    );
  }
  const omitManagedFields = optionalBool(r["omitManagedFields"], `${path}.omitManagedFields`, errs);
  return Object.freeze({
    level: level ?? "None",
    users: strings(r["users"], `${path}.users`, errs),
    userGroups: strings(r["userGroups"], `${path}.userGroups`, errs),
    verbs: strings(r["verbs"], `${path}.verbs`, errs),
    resources,
    namespaces,
    nonResourceURLs,
    omitStages: stages(r["omitStages"], `${path}.omitStages`, errs),
    ...(omitManagedFields !== undefined ? { omitManagedFields } : {}),
  });
}

function parseLevel(v: unknown, path: string, errs: string[]): Level | undefined {
  if (v === undefined || v === null || v === "") {
    errs.push(`${path}: Required value`);
    return undefined;
  }
  if (typeof v === "string" && (LEVELS as readonly string[]).includes(v)) return v as Level;
  errs.push(`${path}: Unsupported value: ${q(v)}: supported values: ${LEVELS.map(q).join(", ")}`);
  return undefined;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function groupResources(v: unknown, path: string, errs: string[]): GroupResources[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    errs.push(`${path}: must be a list`);
    return [];
  }
  const out: GroupResources[] = [];
  v.forEach((g: unknown, i) => {
    const p = `${path}[${i}]`;
    if (!isRecord(g)) {
      errs.push(`${p}: must be an object`);
      return;
    }
    unknownFields(g, ["group", "resources", "resourceNames"], `${p}.`, errs);
    const group = g["group"] ?? "";
    if (typeof group !== "string") errs.push(`${p}.group: must be a string`);
    else if (group !== "" && (group.length > 253 || !DNS_SUBDOMAIN.test(group)))
      errs.push(
        `${p}.group: Invalid value: ${q(group)}: must be a lowercase DNS subdomain (an API group without version)`,
      );
    const resources = strings(g["resources"], `${p}.resources`, errs);
    const resourceNames = strings(g["resourceNames"], `${p}.resourceNames`, errs);
    if (resourceNames.length > 0 && resources.length === 0)
      errs.push(`${p}.resourceNames: Invalid value: using resourceNames requires at least one resource`);
    out.push(Object.freeze({ group: typeof group === "string" ? group : "", resources, resourceNames }));
  });
  return out;
}

function stages(v: unknown, path: string, errs: string[]): readonly Stage[] {
  const list = strings(v, path, errs);
  list.forEach((s, i) => {
    if (!(STAGES as readonly string[]).includes(s))
      errs.push(`${path}[${i}]: Invalid value: ${q(s)}: allowed stages are ${STAGES.join(",")}`);
  });
  return Object.freeze(list.filter((s): s is Stage => (STAGES as readonly string[]).includes(s)));
}

function strings(v: unknown, path: string, errs: string[]): readonly string[] {
  if (v === undefined || v === null) return Object.freeze([]);
  if (!Array.isArray(v) || !v.every((s) => typeof s === "string")) {
    errs.push(`${path}: must be a list of strings`);
    return Object.freeze([]);
  }
  return Object.freeze([...(v as string[])]);
}

function optionalBool(v: unknown, path: string, errs: string[]): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === "boolean") return v;
  errs.push(`${path}: must be true or false`);
  return undefined;
}

function unknownFields(
  o: Record<string, unknown>,
  known: readonly string[],
  prefix: string,
  errs: string[],
): void {
  for (const k of Object.keys(o)) if (!known.includes(k)) errs.push(`${prefix}${k}: unknown field`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function q(v: unknown): string {
  return JSON.stringify(v);
}
