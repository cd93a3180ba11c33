/**
 * Seeded random RBAC scenarios for the conformance test against a real kube-apiserver. Each scenario
 * lives in its own namespace with its own user, group and role names, so hundreds of them can be
 * loaded into one cluster at once; they still share the system groups (system:authenticated,
 * system:serviceaccounts), so they also meet the cluster's bootstrap policy.
 */
import fc from "fast-check";
import type { KubeObject } from "../../src/core/k8s/objects.js";
import type { SubjectAccessReviewSpec } from "../../src/core/k8s/sar.js";
import type { PolicyRule, Subject } from "../../src/core/rbac/index.js";

const RBAC = "rbac.authorization.k8s.io";
const V1 = `${RBAC}/v1`;
const VERBS = ["get", "list", "watch", "create", "delete", "escalate", "bind", "impersonate"];
const API_GROUPS = ["", "apps", RBAC, "example.com"];
const RESOURCES = ["pods", "deployments", "configmaps", "roles", "widgets"];
const SUBRESOURCES = ["log", "scale", "status"];
const NAMES = ["a", "b"];
const URLS = ["/healthz", "/healthz*", "/api*", "/apis/*", "/metrics", "/version", "/logs/**", "*"];
const PATHS = [
  "/healthz",
  "/healthz/etcd",
  "/api",
  "/api/v1",
  "/apis",
  "/apis/apps",
  "/metrics",
  "/version",
  "/logs/x",
  "/openapi/v2",
];
const SHARED_GROUPS = ["system:authenticated", "system:serviceaccounts"];

const pick = <T>(xs: readonly T[]) => fc.constantFrom(...xs);
const some = <T>(xs: readonly T[], max: number) => fc.uniqueArray(pick(xs), { minLength: 1, maxLength: max });

const resourceRule: fc.Arbitrary<PolicyRule> = fc
  .record({
    verbs: some([...VERBS, "*"], 3),
    apiGroups: some([...API_GROUPS, "*"], 2),
    resources: fc.uniqueArray(
      fc.oneof(
        pick(RESOURCES),
        fc.tuple(pick(RESOURCES), pick([...SUBRESOURCES, "*"])).map(([r, s]) => `${r}/${s}`),
        pick(SUBRESOURCES).map((s) => `*/${s}`),
        fc.constant("*"),
      ),
      { minLength: 1, maxLength: 3 },
    ),
    resourceNames: fc.uniqueArray(pick(NAMES), { maxLength: 1 }),
  })
  .map((r) =>
    r.resourceNames.length > 0 ? r : { verbs: r.verbs, apiGroups: r.apiGroups, resources: r.resources },
  );

const urlRule: fc.Arbitrary<PolicyRule> = fc.record({
  verbs: some(["get", "post", "*"], 2),
  nonResourceURLs: some(URLS, 2),
});

export interface Scenario {
  namespace: string;
  objects: KubeObject[];
  reviews: SubjectAccessReviewSpec[];
}

function scenario(k: number): fc.Arbitrary<Scenario> {
  const ns = `conf-${k}`;
  const users = [`u${k}-a`, `u${k}-b`, `system:serviceaccount:${ns}:sa1`];
  const groups = [`g${k}-x`, `g${k}-y`, ...SHARED_GROUPS, `system:serviceaccounts:${ns}`];
  const label = `conf.gatehouse.io/agg-${k}`;
  const subject = (namespaced: boolean): fc.Arbitrary<Subject> =>
    fc.oneof(
      pick(users.slice(0, 2)).map((name) => ({ kind: "User" as const, apiGroup: RBAC, name })),
      pick(groups).map((name) => ({ kind: "Group" as const, apiGroup: RBAC, name })),
      fc
        .tuple(pick(["sa1", "sa2"]), namespaced ? fc.boolean() : fc.constant(true))
        .map(([name, withNs]) =>
          withNs
            ? { kind: "ServiceAccount" as const, name, namespace: ns }
            : { kind: "ServiceAccount" as const, name },
        ),
    );
  const roles = fc
    .uniqueArray(pick(["r1", "r2", "r3"]), { maxLength: 3 })
    .chain((names) =>
      fc.tuple(
        ...names.map((name) =>
          fc
            .array(resourceRule, { maxLength: 3 })
            .map((rules) => ({ apiVersion: V1, kind: "Role", metadata: { name, namespace: ns }, rules })),
        ),
      ),
    );
  const clusterRole = (name: string) =>
    fc
      .record({
        rules: fc.array(fc.oneof(resourceRule, urlRule), { maxLength: 3 }),
        labels: fc.option(pick(["a", "b"]), { nil: undefined }),
        aggregates: fc.option(fc.uniqueArray(pick(["a", "b"]), { minLength: 1, maxLength: 2 }), {
          nil: undefined,
          freq: 4,
        }),
      })
      .map(({ rules, labels, aggregates }) => ({
        apiVersion: V1,
        kind: "ClusterRole",
        metadata: { name, ...(labels ? { labels: { [label]: labels } } : {}) },
        ...(aggregates
          ? {
              aggregationRule: {
                clusterRoleSelectors: aggregates.map((v) => ({ matchLabels: { [label]: v } })),
              },
              rules: [],
            }
          : { rules }),
      }));
  const clusterRoles = fc
    .boolean()
    .chain((third) =>
      fc.tuple(...(third ? [`c${k}-1`, `c${k}-2`, `c${k}-3`] : [`c${k}-1`, `c${k}-2`]).map(clusterRole)),
    );
  const refName = (names: string[], missing: string) =>
    fc.oneof({ weight: 8, arbitrary: pick(names) }, { weight: 1, arbitrary: fc.constant(missing) });
  const roleBindings = fc
    .uniqueArray(pick(["b1", "b2", "b3", "b4"]), { minLength: 1, maxLength: 4 })
    .chain((names) =>
      fc.tuple(
        ...names.map((name) =>
          fc
            .record({
              ref: fc.oneof(
                refName(["r1", "r2", "r3"], "r-missing").map((n) => ({ kind: "Role", name: n })),
                refName([`c${k}-1`, `c${k}-2`, `c${k}-3`], `c${k}-missing`).map((n) => ({
                  kind: "ClusterRole",
                  name: n,
                })),
              ),
              subjects: fc.array(subject(true), { minLength: 1, maxLength: 3 }),
            })
            .map(({ ref, subjects }) => ({
              apiVersion: V1,
              kind: "RoleBinding",
              metadata: { name, namespace: ns },
              roleRef: { apiGroup: RBAC, ...ref },
              subjects,
            })),
        ),
      ),
    );
  const clusterRoleBindings = fc
    .uniqueArray(pick([`cb${k}-1`, `cb${k}-2`]), { maxLength: 2 })
    .chain((names) =>
      fc.tuple(
        ...names.map((name) =>
          fc
            .record({
              ref: refName([`c${k}-1`, `c${k}-2`, `c${k}-3`], `c${k}-missing`),
              subjects: fc.array(subject(false), { minLength: 1, maxLength: 3 }),
            })
            .map(({ ref, subjects }) => ({
              apiVersion: V1,
              kind: "ClusterRoleBinding",
              metadata: { name },
              roleRef: { apiGroup: RBAC, kind: "ClusterRole", name: ref },
              subjects,
            })),
        ),
      ),
    );
  const review: fc.Arbitrary<SubjectAccessReviewSpec> = fc
    .record({
      user: pick(users),
      groups: fc.uniqueArray(pick(groups), { maxLength: 3 }),
      what: fc.oneof(
        {
          weight: 4,
          arbitrary: fc
            .record({
              namespace: pick([ns, ns, "", "default"]),
              verb: pick(VERBS),
              group: pick(API_GROUPS),
              resource: pick(RESOURCES),
              subresource: pick(["", "", ...SUBRESOURCES]),
              name: pick(["", ...NAMES, "c"]),
            })
            .map((r) => ({ resourceAttributes: r })),
        },
        {
          weight: 1,
          arbitrary: fc
            .record({ verb: pick(["get", "post"]), path: pick(PATHS) })
            .map((r) => ({ nonResourceAttributes: r })),
        },
      ),
    })
    .map(({ user, groups: g, what }) => ({ user, groups: g, ...what }));

  return fc.tuple(roles, clusterRoles, roleBindings, clusterRoleBindings).chain(([r, cr, rb, crb]) => {
    const objects = [...r, ...cr, ...rb, ...crb] as KubeObject[];
    const aimed = aimedReviews(objects, ns);
    const targeted = aimed.length > 0 ? fc.oneof(...aimed) : review;
    return fc
      .tuple(
        fc.array(review, { minLength: 4, maxLength: 4 }),
        fc.array(targeted, { minLength: 6, maxLength: 6 }),
      )
      .map(([random, near]) => ({ namespace: ns, objects, reviews: [...random, ...near] }));
  });
}

/** A value the rule names (a wildcard replaced by any value), or now and then any value at all. */
function concrete(values: readonly string[] | undefined, pool: readonly string[]): fc.Arbitrary<string> {
  const named = (values ?? []).filter((v) => v !== "*");
  const own = (values ?? []).includes("*") ? [...named, ...pool] : named;
  return own.length === 0
    ? pick(pool)
    : fc.oneof({ weight: 9, arbitrary: pick(own) }, { weight: 1, arbitrary: pick(pool) });
}

/**
 * Requests aimed at what the scenario grants: a subject of some binding, a rule of the role it
 * refers to (when the role is in the scenario and not aggregated), made concrete, now and then a
 * little off, so that many are allowed and many are near misses.
 */
function aimedReviews(objects: KubeObject[], ns: string): fc.Arbitrary<SubjectAccessReviewSpec>[] {
  const byName = new Map(
    objects
      .filter((o) => o.kind === "Role" || o.kind === "ClusterRole")
      .map((o) => [`${o.kind}/${o.metadata?.name}`, o]),
  );
  const out: fc.Arbitrary<SubjectAccessReviewSpec>[] = [];
  for (const b of objects.filter((o) => o.kind === "RoleBinding" || o.kind === "ClusterRoleBinding")) {
    const ref = b["roleRef"] as { kind: string; name: string };
    const rules = (byName.get(`${ref.kind}/${ref.name}`)?.["rules"] as PolicyRule[] | undefined) ?? [];
    const who = pick(
      (b["subjects"] as Subject[]).map((s) =>
        s.kind === "User"
          ? { user: s.name, groups: [] as string[] }
          : s.kind === "Group"
            ? { user: "someone", groups: [s.name] }
            : { user: `system:serviceaccount:${s.namespace ?? ns}:${s.name}`, groups: [] as string[] },
      ),
    );
    for (const rule of rules) {
      if (rule.nonResourceURLs) {
        const paths = rule.nonResourceURLs.map((u) => (u === "*" ? "/anything" : u.replace(/\*+$/, "x")));
        out.push(
          fc
            .record({ who, verb: concrete(rule.verbs, ["get", "post"]), path: concrete(paths, PATHS) })
            .map(({ who: w, verb, path }) => ({ ...w, nonResourceAttributes: { verb, path } })),
        );
        continue;
      }
      out.push(
        fc
          .record({
            who,
            namespace: pick(b.kind === "RoleBinding" ? [ns, ns, ns, "default"] : [ns, "", "default"]),
            verb: concrete(rule.verbs, VERBS),
            group: concrete(rule.apiGroups, API_GROUPS),
            resource: concrete(rule.resources, RESOURCES),
            name: rule.resourceNames
              ? fc.oneof(
                  { weight: 4, arbitrary: pick(rule.resourceNames) },
                  { weight: 1, arbitrary: pick(["", "c"]) },
                )
              : pick(["", "a"]),
          })
          .map(({ who: w, namespace, verb, group, resource, name }) => {
            const [res = "", sub = ""] = resource.split("/", 2);
            return {
              ...w,
              resourceAttributes: {
                namespace,
                verb,
                group,
                resource: res === "*" ? "pods" : res,
                ...(sub ? { subresource: sub === "*" ? "log" : sub } : {}),
                ...(name ? { name } : {}),
              },
            };
          }),
      );
    }
  }
  return out;
}

/** `count` scenarios, the same for the same seed. */
export function scenarios(count: number, seed: number): Scenario[] {
  return Array.from(
    { length: count },
    (_, k) => fc.sample(scenario(k), { numRuns: 1, seed: seed + k })[0] as Scenario,
  );
}
