import { validateSelector, type LabelSelector } from "../k8s/labels.js";
import type { AccessSubject, ClusterScope } from "../access/types.js";
import { parseQuantity } from "./quantity.js";
import type {
  Hard,
  LimitRangeTemplate,
  NamingRules,
  PodSecurityLevel,
  Tenant,
  TemplateObject,
  TenantQuota,
} from "./types.js";

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === "object" && v !== null && !Array.isArray(v);

/** The namespaced kinds a template may add (the reconciler knows their REST paths and compares them). */
export const TEMPLATE_KINDS: Readonly<Record<string, { apiVersion: string; plural: string }>> = {
  ConfigMap: { apiVersion: "v1", plural: "configmaps" },
  Secret: { apiVersion: "v1", plural: "secrets" },
  ServiceAccount: { apiVersion: "v1", plural: "serviceaccounts" },
  LimitRange: { apiVersion: "v1", plural: "limitranges" },
  ResourceQuota: { apiVersion: "v1", plural: "resourcequotas" },
  NetworkPolicy: { apiVersion: "networking.k8s.io/v1", plural: "networkpolicies" },
  Role: { apiVersion: "rbac.authorization.k8s.io/v1", plural: "roles" },
  RoleBinding: { apiVersion: "rbac.authorization.k8s.io/v1", plural: "rolebindings" },
};

const SUBJECT_KINDS = new Set(["User", "Team", "Group", "AccessKey"]);
const LEVELS = new Set(["privileged", "baseline", "restricted"]);
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function subjects(v: unknown, at: string, p: string[], required: boolean): AccessSubject[] {
  if (v === undefined) {
    if (required) p.push(`${at}: at least one owner is required`);
    return [];
  }
  if (!Array.isArray(v)) {
    p.push(`${at}: must be a list of {kind: User|Team|Group|AccessKey, name}`);
    return [];
  }
  if (required && v.length === 0) p.push(`${at}: at least one owner is required`);
  const out: AccessSubject[] = [];
  v.forEach((x: unknown, i) => {
    const s = isRec(x) ? x : {};
    const kind = String(s["kind"]);
    if (!SUBJECT_KINDS.has(kind)) p.push(`${at}[${i}].kind: must be one of User, Team, Group, AccessKey`);
    else if (typeof s["name"] !== "string" || s["name"] === "") p.push(`${at}[${i}].name: required`);
    else out.push({ kind, name: s["name"] } as AccessSubject);
  });
  return out;
}

function hard(v: unknown, at: string, p: string[]): Hard | undefined {
  if (v === undefined) return undefined;
  if (!isRec(v)) {
    p.push(`${at}: must map resource names to quantities, e.g. {"requests.cpu": "2", pods: "20"}`);
    return undefined;
  }
  const out: Record<string, string> = {};
  for (const [k, q] of Object.entries(v)) {
    const s = typeof q === "number" ? String(q) : q;
    if (typeof s !== "string" || parseQuantity(s) === undefined || (parseQuantity(s) ?? 0n) < 0n)
      p.push(`${at}.${k}: not a non-negative quantity: ${JSON.stringify(q)}`);
    else out[k] = s;
  }
  return out;
}

function clusters(v: unknown, p: string[]): ClusterScope {
  if (!isRec(v)) {
    p.push("spec.clusters: required (names and/or selector)");
    return {};
  }
  const out: { names?: string[]; selector?: LabelSelector } = {};
  if (v["names"] !== undefined) {
    if (!Array.isArray(v["names"]) || !v["names"].every((n) => typeof n === "string" && n !== ""))
      p.push("spec.clusters.names: must be a list of cluster names");
    else out.names = v["names"] as string[];
  }
  if (v["selector"] !== undefined) {
    if (!isRec(v["selector"])) p.push("spec.clusters.selector: must be a label selector");
    else {
      const sp = validateSelector(v["selector"] as LabelSelector, "spec.clusters.selector");
      p.push(...sp);
      if (sp.length === 0) out.selector = v["selector"] as LabelSelector;
    }
  }
  if (v["names"] === undefined && v["selector"] === undefined)
    p.push("spec.clusters: give names, a selector, or both");
  return out;
}

function naming(v: unknown, p: string[]): NamingRules {
  if (v === undefined) return {};
  if (!isRec(v)) {
    p.push("spec.naming: must be {prefix, pattern}");
    return {};
  }
  const out: { prefix?: string; pattern?: string } = {};
  if (v["prefix"] !== undefined) {
    if (typeof v["prefix"] !== "string" || !/^[a-z0-9][-a-z0-9]*$/.test(v["prefix"]))
      p.push(
        "spec.naming.prefix: must be lower-case letters, digits and '-', starting with a letter or digit",
      );
    else out.prefix = v["prefix"];
  }
  if (v["pattern"] !== undefined) {
    if (typeof v["pattern"] !== "string") p.push("spec.naming.pattern: must be a regular expression");
    else
      try {
        new RegExp(v["pattern"], "u");
        out.pattern = v["pattern"];
      } catch (e) {
        p.push(`spec.naming.pattern: not a valid regular expression: ${(e as Error).message}`);
      }
  }
  return out;
}

function limitRange(v: unknown, p: string[]): LimitRangeTemplate | false | undefined {
  if (v === undefined) return undefined;
  if (v === false) return false;
  if (!isRec(v)) {
    p.push("spec.templates.limitRange: must be false or {default, defaultRequest, max, min}");
    return undefined;
  }
  const out: Record<string, Hard> = {};
  for (const k of ["default", "defaultRequest", "max", "min"]) {
    const h = hard(v[k], `spec.templates.limitRange.${k}`, p);
    if (h) out[k] = h;
  }
  for (const k of Object.keys(v))
    if (!["default", "defaultRequest", "max", "min"].includes(k))
      p.push(`spec.templates.limitRange.${k}: unknown field (default, defaultRequest, max, min)`);
  return out as LimitRangeTemplate;
}

function templateObjects(v: unknown, p: string[]): TemplateObject[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) {
    p.push("spec.templates.objects: must be a list of namespaced objects");
    return [];
  }
  const out: TemplateObject[] = [];
  const seen = new Set<string>();
  v.forEach((x: unknown, i) => {
    const at = `spec.templates.objects[${i}]`;
    const o = isRec(x) ? x : {};
    const known = TEMPLATE_KINDS[String(o["kind"])];
    const meta = isRec(o["metadata"]) ? o["metadata"] : {};
    if (!known) {
      p.push(`${at}.kind: must be one of ${Object.keys(TEMPLATE_KINDS).join(", ")}`);
      return;
    }
    if (o["apiVersion"] !== known.apiVersion) p.push(`${at}.apiVersion: must be ${known.apiVersion}`);
    else if (typeof meta["name"] !== "string" || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(meta["name"]))
      p.push(`${at}.metadata.name: required, a lower-case DNS subdomain`);
    else if (meta["namespace"] !== undefined)
      p.push(`${at}.metadata.namespace: must not be set (each space gets a copy)`);
    else if (seen.has(`${String(o["kind"])}/${meta["name"]}`))
      p.push(`${at}: ${String(o["kind"])} ${meta["name"]} appears twice`);
    else if (String(meta["name"]).startsWith("gatehouse-"))
      p.push(`${at}.metadata.name: names starting with gatehouse- are Gatehouse's own`);
    else {
      seen.add(`${String(o["kind"])}/${meta["name"]}`);
      out.push(o as TemplateObject);
    }
  });
  return out;
}

/**
 * Validate a Tenant's spec and return it with defaults applied (network policies on, Pod Security
 * `restricted`, owners `admin`, members `edit`, Gatehouse's default LimitRange). Every problem is
 * reported as "spec.field: what is wrong".
 */
export function parseTenant(name: string, spec: unknown): { tenant: Tenant } | { problems: string[] } {
  const p: string[] = [];
  const s = isRec(spec) ? spec : {};
  if (!isRec(spec)) p.push("spec: required");
  if (!DNS_LABEL.test(name) || name.length > 63)
    p.push("metadata.name: a tenant name is a DNS label (it becomes a label value): a-z, 0-9, '-', ≤ 63");
  const owners = subjects(s["owners"], "spec.owners", p, true);
  const members = subjects(s["members"], "spec.members", p, false);
  const scope = clusters(s["clusters"], p);
  const rules = naming(s["naming"], p);
  let maxSpaces: number | undefined;
  if (s["maxSpaces"] !== undefined) {
    if (!Number.isInteger(s["maxSpaces"]) || (s["maxSpaces"] as number) < 0)
      p.push("spec.maxSpaces: must be a whole number ≥ 0");
    else maxSpaces = s["maxSpaces"] as number;
  }
  const q = s["quota"];
  const quota: { -readonly [K in keyof TenantQuota]: TenantQuota[K] } = {};
  if (q !== undefined && !isRec(q)) p.push("spec.quota: must be {space, perCluster, total}");
  else if (isRec(q)) {
    for (const k of ["space", "perCluster", "total"] as const) {
      const h = hard(q[k], `spec.quota.${k}`, p);
      if (h) quota[k] = h;
    }
    for (const k of Object.keys(q))
      if (!["space", "perCluster", "total"].includes(k))
        p.push(`spec.quota.${k}: unknown field (space, perCluster, total)`);
    for (const k of ["perCluster", "total"] as const)
      for (const r of Object.keys(quota[k] ?? {}))
        if (quota.space?.[r] === undefined && r !== "spaces")
          p.push(
            `spec.quota.${k}.${r}: limit it per space too (spec.quota.space.${r}), so each space's share is known`,
          );
  }
  const t = isRec(s["templates"]) ? s["templates"] : {};
  if (s["templates"] !== undefined && !isRec(s["templates"])) p.push("spec.templates: must be an object");
  let networkPolicies = true;
  if (t["networkPolicies"] !== undefined) {
    if (typeof t["networkPolicies"] !== "boolean")
      p.push("spec.templates.networkPolicies: must be true or false");
    else networkPolicies = t["networkPolicies"];
  }
  let podSecurity: PodSecurityLevel = "restricted";
  if (t["podSecurity"] !== undefined) {
    if (!LEVELS.has(String(t["podSecurity"])))
      p.push("spec.templates.podSecurity: must be privileged, baseline or restricted");
    else podSecurity = t["podSecurity"] as PodSecurityLevel;
  }
  const lr = limitRange(t["limitRange"], p);
  const rb = isRec(t["roleBindings"]) ? t["roleBindings"] : {};
  let ownersRole = "admin";
  let membersRole: string | false = "edit";
  if (rb["owners"] !== undefined) {
    if (typeof rb["owners"] !== "string" || rb["owners"] === "")
      p.push("spec.templates.roleBindings.owners: a role name (admin, edit, view or an AccessRole)");
    else ownersRole = rb["owners"];
  }
  if (rb["members"] !== undefined) {
    if (rb["members"] !== false && (typeof rb["members"] !== "string" || rb["members"] === ""))
      p.push("spec.templates.roleBindings.members: a role name, or false for none");
    else membersRole = rb["members"] as string | false;
  }
  const objects = templateObjects(t["objects"], p);
  if (p.length > 0) return { problems: p };
  return {
    tenant: {
      name,
      owners,
      members,
      clusters: scope,
      naming: rules,
      ...(maxSpaces !== undefined ? { maxSpaces } : {}),
      quota,
      templates: {
        networkPolicies,
        podSecurity,
        limitRange: lr ?? DEFAULT_LIMIT_RANGE,
        roleBindings: { owners: ownersRole, members: membersRole },
        objects,
      },
    },
  };
}

/** Defaults so that pods without requests are admitted under a quota on requests and limits. */
export const DEFAULT_LIMIT_RANGE: LimitRangeTemplate = {
  default: { cpu: "500m", memory: "512Mi" },
  defaultRequest: { cpu: "100m", memory: "128Mi" },
};

/**
 * Whether a namespace name is allowed for the tenant: a DNS label (≤ 63), the tenant's prefix, and its
 * pattern. Returns the reason it is not, in kube-apiserver's words for field errors, or undefined.
 */
export function checkSpaceName(t: Tenant, name: string): string | undefined {
  if (name.length > 63 || !DNS_LABEL.test(name))
    return "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
  if (t.naming.prefix !== undefined && !name.startsWith(t.naming.prefix))
    return `tenant ${t.name} requires space names to start with ${JSON.stringify(t.naming.prefix)}`;
  if (t.naming.pattern !== undefined && !new RegExp(`^(?:${t.naming.pattern})$`, "u").test(name))
    return `tenant ${t.name} requires space names to match ${JSON.stringify(t.naming.pattern)}`;
  return undefined;
}
