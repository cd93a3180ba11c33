/**
 * fast-check generators for RBAC policies and requests, drawn from small vocabularies so that
 * subjects, roles, names and wildcards collide often: the interesting cases are the overlaps.
 */
import fc from "fast-check";
import type { RequestAttributes, UserInfo } from "../../src/core/k8s/attributes.js";
import type { ObjectRef, PolicyRule, RbacObject, Subject } from "../../src/core/rbac/index.js";
import {
  clusterRole,
  clusterRoleBinding,
  groupSubject,
  role,
  roleBinding,
  saSubject,
  userSubject,
} from "./builders.js";

export const NAMESPACES = ["a", "b", "c"];
const USERS = [
  "alice",
  "bob",
  "system:serviceaccount:a:sa1",
  "system:serviceaccount:b:sa1",
  "system:anonymous",
];
const GROUPS = [
  "g1",
  "g2",
  "g3",
  "system:authenticated",
  "system:serviceaccounts",
  "system:serviceaccounts:a",
];
const VERBS = ["get", "list", "create", "delete", "escalate", "bind"];
const API_GROUPS = ["", "apps", "rbac.authorization.k8s.io"];
const RESOURCES = ["pods", "deployments", "configmaps", "roles"];
const SUBRESOURCES = ["log", "scale", "status", "*"];
const NAMES = ["x", "y"];
const PATHS = ["/healthz", "/healthz/ready", "/api", "/api/v1", "/apis", "/apis/apps", "/metrics", "/"];
const ROLE_NAMES = ["r1", "r2", "r3"];
const BINDING_NAMES = ["b1", "b2", "b3", "b4"];

const pick = <T>(xs: readonly T[]) => fc.constantFrom(...xs);
const someOf = <T>(xs: readonly T[], max = 3) => fc.uniqueArray(pick(xs), { minLength: 1, maxLength: max });

const ruleResource = fc.oneof(
  pick(RESOURCES),
  fc.tuple(pick(RESOURCES), pick(SUBRESOURCES)).map(([r, s]) => `${r}/${s}`),
  pick(SUBRESOURCES).map((s) => `*/${s}`),
  fc.constant("*"),
);

export const resourceRule: fc.Arbitrary<PolicyRule> = fc
  .record({
    verbs: someOf([...VERBS, "*"]),
    apiGroups: someOf([...API_GROUPS, "*"], 2),
    resources: fc.uniqueArray(ruleResource, { minLength: 1, maxLength: 3 }),
    resourceNames: fc.uniqueArray(pick(NAMES), { maxLength: 2 }),
  })
  .map((r) =>
    r.resourceNames.length === 0 ? { verbs: r.verbs, apiGroups: r.apiGroups, resources: r.resources } : r,
  );

export const urlRule: fc.Arbitrary<PolicyRule> = fc.record({
  verbs: someOf(["get", "post", "*"], 2),
  nonResourceURLs: someOf(["/healthz", "/healthz*", "/api*", "/api**", "/apis/*", "/metrics", "*", "/"], 3),
});

const clusterRules = fc.array(fc.oneof(resourceRule, urlRule), { maxLength: 4 });
const namespacedRules = fc.array(resourceRule, { maxLength: 4 });

export const subject: fc.Arbitrary<Subject> = fc.oneof(
  pick(USERS).map(userSubject),
  pick(GROUPS).map(groupSubject),
  fc
    .tuple(pick(["sa1", "sa2"]), fc.option(pick(NAMESPACES), { nil: undefined }))
    .map(([n, ns]) => saSubject(n, ns)),
);

export const rbacObject: fc.Arbitrary<RbacObject> = fc.oneof(
  fc.tuple(pick(NAMESPACES), pick(ROLE_NAMES), namespacedRules).map(([ns, n, r]) => role(ns, n, r)),
  fc.tuple(pick(ROLE_NAMES), clusterRules).map(([n, r]) => clusterRole(n, r)),
  fc
    .tuple(
      pick(NAMESPACES),
      pick(BINDING_NAMES),
      pick(["Role", "ClusterRole"] as const),
      pick(ROLE_NAMES),
      fc.array(subject, { maxLength: 3 }),
    )
    .map(([ns, n, kind, rn, s]) => roleBinding(ns, n, { kind, name: rn }, s)),
  fc
    .tuple(pick(BINDING_NAMES), pick(ROLE_NAMES), fc.array(subject, { maxLength: 3 }))
    .map(([n, rn, s]) => clusterRoleBinding(n, rn, s)),
);

export const objectRef: fc.Arbitrary<ObjectRef> = fc.oneof(
  fc
    .tuple(pick(NAMESPACES), pick(ROLE_NAMES))
    .map(([namespace, name]) => ({ kind: "Role" as const, namespace, name })),
  pick(ROLE_NAMES).map((name) => ({ kind: "ClusterRole" as const, name })),
  fc
    .tuple(pick(NAMESPACES), pick(BINDING_NAMES))
    .map(([namespace, name]) => ({ kind: "RoleBinding" as const, namespace, name })),
  pick(BINDING_NAMES).map((name) => ({ kind: "ClusterRoleBinding" as const, name })),
);

export type Op = { op: "upsert"; object: RbacObject } | { op: "remove"; ref: ObjectRef };

export const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: rbacObject.map((object) => ({ op: "upsert" as const, object })) },
  { weight: 1, arbitrary: objectRef.map((ref) => ({ op: "remove" as const, ref })) },
);

export const user: fc.Arbitrary<UserInfo> = fc
  .tuple(pick(USERS), fc.uniqueArray(pick(GROUPS), { maxLength: 4 }))
  .map(([username, groups]) => ({ username, groups }));

export const request: fc.Arbitrary<RequestAttributes> = fc.oneof(
  fc
    .record({
      user,
      verb: pick(VERBS),
      namespace: pick(["", ...NAMESPACES]),
      apiGroup: pick(API_GROUPS),
      resource: pick(RESOURCES),
      subresource: pick(["", ...SUBRESOURCES]),
      name: pick(["", ...NAMES]),
    })
    .map((r) => ({ kind: "resource" as const, apiVersion: "v1", ...r })),
  fc
    .record({ user, verb: pick(["get", "post"]), path: pick(PATHS) })
    .map((r) => ({ kind: "nonResource" as const, ...r })),
);
