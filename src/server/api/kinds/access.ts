import { validateSelector, type LabelSelector } from "../../../core/k8s/index.js";
import { BUILTIN_ROLE_NAMES } from "../../../core/access/index.js";
import type { ApiObject, KindSpec } from "../kind.js";

const isStringList = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((x) => typeof x === "string" && x !== "");

function specOf(o: ApiObject): Record<string, unknown> {
  return (o.spec ?? {}) as Record<string, unknown>;
}

/** Team: users by name and identity-provider groups whose members belong. */
export const teamKind: KindSpec = {
  kind: "Team",
  plural: "teams",
  singular: "team",
  validate(o) {
    const s = specOf(o);
    const p: string[] = [];
    if (s["users"] !== undefined && !isStringList(s["users"]))
      p.push("spec.users: must be a list of user names");
    if (s["groups"] !== undefined && !isStringList(s["groups"]))
      p.push("spec.groups: must be a list of identity-provider group names");
    return p;
  },
};

/** AccessRole: ClusterRole-shaped rules. The built-in names cannot be redefined. */
export const accessRoleKind: KindSpec = {
  kind: "AccessRole",
  plural: "accessroles",
  singular: "accessrole",
  validate(o) {
    const p: string[] = [];
    if (BUILTIN_ROLE_NAMES.has(o.metadata.name))
      p.push(`metadata.name: ${o.metadata.name} is a built-in role and cannot be redefined`);
    const rules = specOf(o)["rules"];
    if (!Array.isArray(rules)) return [...p, "spec.rules: required, a list of policy rules"];
    rules.forEach((r: unknown, i) => {
      const rule = (r ?? {}) as Record<string, unknown>;
      const at = `spec.rules[${i}]`;
      if (!isStringList(rule["verbs"]) || (rule["verbs"] as string[]).length === 0)
        p.push(`${at}.verbs: must have at least one verb`);
      for (const f of ["apiGroups", "resources", "resourceNames", "nonResourceURLs"]) {
        if (
          rule[f] !== undefined &&
          !(Array.isArray(rule[f]) && (rule[f] as unknown[]).every((x) => typeof x === "string"))
        )
          p.push(`${at}.${f}: must be a list of strings`);
      }
      const hasRes = Array.isArray(rule["resources"]) && (rule["resources"] as unknown[]).length > 0;
      const hasUrls =
        Array.isArray(rule["nonResourceURLs"]) && (rule["nonResourceURLs"] as unknown[]).length > 0;
      if (hasRes && hasUrls) p.push(`${at}: resources and nonResourceURLs cannot both be set`);
      if (!hasRes && !hasUrls) p.push(`${at}: needs resources (with apiGroups) or nonResourceURLs`);
      if (hasRes && !Array.isArray(rule["apiGroups"])) p.push(`${at}.apiGroups: required with resources`);
    });
    return p;
  },
};

const SUBJECT_KINDS = new Set(["User", "Team", "Group", "AccessKey"]);

/** AccessBinding: subjects → role, on clusters by name or label, optionally only some namespaces. */
export const accessBindingKind: KindSpec = {
  kind: "AccessBinding",
  plural: "accessbindings",
  singular: "accessbinding",
  validate(o) {
    const s = specOf(o);
    const p: string[] = [];
    const subjects = s["subjects"];
    if (!Array.isArray(subjects) || subjects.length === 0)
      p.push("spec.subjects: at least one subject is required");
    else
      subjects.forEach((x: unknown, i) => {
        const sub = (x ?? {}) as Record<string, unknown>;
        if (!SUBJECT_KINDS.has(String(sub["kind"])))
          p.push(`spec.subjects[${i}].kind: must be one of User, Team, Group, AccessKey`);
        if (typeof sub["name"] !== "string" || sub["name"] === "")
          p.push(`spec.subjects[${i}].name: required`);
      });
    const roleRef = (s["roleRef"] ?? {}) as Record<string, unknown>;
    if (typeof roleRef["name"] !== "string" || roleRef["name"] === "") p.push("spec.roleRef.name: required");
    const clusters = s["clusters"] as Record<string, unknown> | undefined;
    if (typeof clusters !== "object" || clusters === null)
      p.push("spec.clusters: required (names and/or selector)");
    else {
      if (clusters["names"] !== undefined && !isStringList(clusters["names"]))
        p.push("spec.clusters.names: must be a list of cluster names");
      if (clusters["selector"] !== undefined) {
        if (typeof clusters["selector"] !== "object" || clusters["selector"] === null)
          p.push("spec.clusters.selector: must be a label selector");
        else p.push(...validateSelector(clusters["selector"] as LabelSelector, "spec.clusters.selector"));
      }
      if (clusters["names"] === undefined && clusters["selector"] === undefined)
        p.push("spec.clusters: give names, a selector, or both");
    }
    if (
      s["namespaces"] !== undefined &&
      (!isStringList(s["namespaces"]) || (s["namespaces"] as string[]).length === 0)
    )
      p.push("spec.namespaces: when set, a non-empty list of namespace names");
    return p;
  },
};
