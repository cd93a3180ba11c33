import {
  buildIndex,
  objectKey,
  RBAC_GROUP,
  refOf,
  ruleAllows,
  settleObjects,
  type Authorizer,
  type ClusterRole,
  type ClusterRoleBinding,
  type PolicyRule,
  type RbacObject,
  type Role,
  type RoleBinding,
  type Subject,
} from "../../rbac/index.js";
import type { Event } from "../types.js";
import { compactGeneratedRules } from "./compact.js";
import { DEFAULT_ACCESS } from "./defaults.js";
import { generateRules, type ExpandOptions } from "./generate.js";
import { generatedMeta, subjectFor, type GeneratedMeta } from "./naming.js";
import { observedRequests, type ObservedRequest } from "./requests.js";

export interface Audit2rbacInput {
  events: readonly Event[];
  /** One run per username, in this order. */
  usernames: readonly string[];
  namespace?: string;
  sinceMs?: number;
  /** RBAC objects the cluster already has; only what they do not allow is generated. */
  existing: readonly RbacObject[];
  expand: ExpandOptions;
  templates: { name: string; labels: readonly string[]; annotations: readonly string[] };
  /** Fills ${version} in the templates. */
  version: string;
}

/** Why a generated rule is there: the requests it allows that nothing else did. */
export interface RuleExplanation {
  rule: PolicyRule;
  requests: ObservedRequest[];
}

export interface SubjectResult {
  username: string;
  subject: Subject;
  /** Roles, ClusterRoles, RoleBindings, ClusterRoleBindings, in audit2rbac's output order. */
  objects: RbacObject[];
  /** Per object in `objects` (by index), the explanation of each of its generated rules. */
  explanations: Map<number, RuleExplanation[]>;
  /** Requests seen for the user, and how many existing access already allowed. */
  requestCount: number;
  alreadyAllowed: number;
  /** Things the user should know: objects merged with existing ones of the same name. */
  notes: string[];
}

export class Audit2rbacError extends Error {
  constructor(
    readonly code: "NoEvents" | "BindingConflict" | "NameCollision",
    message: string,
  ) {
    super(message);
    this.name = "Audit2rbacError";
  }
}

/** Generate least-privilege RBAC for each user from audit events (see docs/audit.md). */
export function audit2rbac(input: Audit2rbacInput): SubjectResult[] {
  if (input.usernames.length > 1 && !input.templates.name.includes("${user}")) {
    throw new Audit2rbacError(
      "NameCollision",
      "with more than one user the generated name must contain ${user}",
    );
  }
  const existing = settleObjects([...DEFAULT_ACCESS, ...input.existing]);
  const authorizer = buildIndex(existing, { aggregate: false });
  const byKey = new Map(existing.map((o) => [objectKey(refOf(o)), o]));
  return input.usernames.map((username) => {
    const requests = observedRequests(input.events, {
      usernames: [username],
      ...(input.namespace !== undefined ? { namespace: input.namespace } : {}),
      ...(input.sinceMs !== undefined ? { sinceMs: input.sinceMs } : {}),
    });
    if (requests.length === 0) {
      const where = input.namespace !== undefined ? ` in namespace ${input.namespace}` : "";
      throw new Audit2rbacError("NoEvents", `no audit events matched user ${username}${where}`);
    }
    const meta = generatedMeta(username, input.version, input.templates);
    return forSubject(username, requests, authorizer, byKey, meta, input.expand);
  });
}

function forSubject(
  username: string,
  requests: ObservedRequest[],
  existing: Authorizer,
  byKey: Map<string, RbacObject>,
  meta: GeneratedMeta,
  expand: ExpandOptions,
): SubjectResult {
  const raw = generateRules(requests, existing, expand);
  const subject = subjectFor(username);
  const notes: string[] = [];
  const fresh = requests.filter((r) => existing.authorize(r.attributes).decision !== "allow");
  const roles: Role[] = [];
  const clusterRoles: ClusterRole[] = [];
  const roleBindings: RoleBinding[] = [];
  const clusterRoleBindings: ClusterRoleBinding[] = [];
  const explained: RuleExplanation[][] = [];
  const explain = (rules: PolicyRule[], namespace: string): RuleExplanation[] =>
    rules.map((rule) => ({
      rule,
      requests: fresh.filter(
        (r) =>
          (namespace === "" || (r.attributes.kind === "resource" && r.attributes.namespace === namespace)) &&
          ruleAllows(r.attributes, rule),
      ),
    }));

  for (const namespace of [...raw.namespaced.keys()]) {
    const rules = compactGeneratedRules(raw.namespaced.get(namespace) ?? []);
    const role: Role = {
      apiVersion: `${RBAC_GROUP}/v1`,
      kind: "Role",
      metadata: { ...metadata(meta), namespace },
      rules,
    };
    roles.push(mergeRole(role, byKey, notes));
    explained.push(explain(rules, namespace));
    const binding: RoleBinding = {
      apiVersion: `${RBAC_GROUP}/v1`,
      kind: "RoleBinding",
      metadata: { ...metadata(meta), namespace },
      roleRef: { apiGroup: RBAC_GROUP, kind: "Role", name: meta.name },
      subjects: [subject],
    };
    roleBindings.push(mergeBinding(binding, byKey, notes));
  }
  if (raw.cluster.length > 0) {
    const rules = compactGeneratedRules(raw.cluster);
    clusterRoles.push(
      mergeRole(
        { apiVersion: `${RBAC_GROUP}/v1`, kind: "ClusterRole", metadata: metadata(meta), rules },
        byKey,
        notes,
      ),
    );
    explained.push(explain(rules, ""));
    clusterRoleBindings.push(
      mergeBinding(
        {
          apiVersion: `${RBAC_GROUP}/v1`,
          kind: "ClusterRoleBinding",
          metadata: metadata(meta),
          roleRef: { apiGroup: RBAC_GROUP, kind: "ClusterRole", name: meta.name },
          subjects: [subject],
        },
        byKey,
        notes,
      ),
    );
  }
  const explanations = new Map<number, RuleExplanation[]>();
  explained.forEach((e, i) => explanations.set(i, e));
  return {
    username,
    subject,
    objects: [...roles, ...clusterRoles, ...roleBindings, ...clusterRoleBindings],
    explanations,
    requestCount: requests.length,
    alreadyAllowed: requests.length - fresh.length,
    notes,
  };
}

/** Fresh metadata for each object (keys in the order audit2rbac prints them), never shared. */
function metadata(meta: GeneratedMeta): ClusterRole["metadata"] {
  return {
    ...(Object.keys(meta.annotations).length > 0 ? { annotations: sortedRecord(meta.annotations) } : {}),
    ...(Object.keys(meta.labels).length > 0 ? { labels: sortedRecord(meta.labels) } : {}),
    name: meta.name,
  };
}

function sortedRecord(r: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * A role whose name an existing role already has keeps the existing rules after the new ones, so
 * that applying the output adds permissions instead of replacing them. Explanations cover the new
 * rules, which come first.
 */
function mergeRole<T extends Role | ClusterRole>(
  role: T,
  byKey: Map<string, RbacObject>,
  notes: string[],
): T {
  const have = byKey.get(objectKey(refOf(role)));
  if (!have || (have.kind !== "Role" && have.kind !== "ClusterRole")) return role;
  notes.push(`${describe(role)} exists: its ${have.rules.length} rule(s) are kept after the new ones`);
  return { ...role, rules: [...role.rules, ...have.rules] };
}

function mergeBinding<T extends RoleBinding | ClusterRoleBinding>(
  b: T,
  byKey: Map<string, RbacObject>,
  notes: string[],
): T {
  const have = byKey.get(objectKey(refOf(b)));
  if (!have || (have.kind !== "RoleBinding" && have.kind !== "ClusterRoleBinding")) return b;
  const r = have.roleRef;
  if (r.kind !== b.roleRef.kind || r.name !== b.roleRef.name) {
    throw new Audit2rbacError(
      "BindingConflict",
      `${describe(b)} exists and refers to ${r.kind} ${r.name}; choose another --generate-name`,
    );
  }
  const same = (s: Subject): boolean =>
    s.kind === b.subjects[0]?.kind &&
    s.name === b.subjects[0].name &&
    (s.namespace ?? "") === (b.subjects[0].namespace ?? "");
  notes.push(`${describe(b)} exists: its subjects are kept`);
  return { ...b, subjects: [...have.subjects.filter((s) => !same(s)), ...b.subjects] };
}

function describe(o: RbacObject): string {
  return o.metadata.namespace
    ? `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`
    : `${o.kind} ${o.metadata.name}`;
}
