import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LinearRbac, RbacIndex, type RoleBinding } from "../../src/core/rbac/index.js";
import { op, rbacObject, request } from "./arbitraries.js";

/**
 * The per-subject cache in front of the index (src/core/rbac/subject-cache.ts) must never answer from
 * a stale view: after any add, update or removal the next decision for a subject it has cached is the
 * same as the linear evaluator's, which has no cache at all.
 */
describe("the RBAC subject cache", () => {
  it("never returns a stale decision when every operation is followed by the same requests again", () => {
    fc.assert(
      fc.property(
        fc.array(rbacObject, { maxLength: 15 }),
        fc.array(op, { minLength: 1, maxLength: 25 }),
        fc.array(request, { minLength: 1, maxLength: 8 }),
        (initial, ops, reqs) => {
          const idx = RbacIndex.from(initial);
          const lin = LinearRbac.from(initial);
          // Warm the cache for every subject first, so each later check can hit a cached view.
          for (const r of reqs) expect(idx.authorize(r)).toEqual(lin.authorize(r));
          for (const o of ops) {
            if (o.op === "upsert") {
              idx.upsert(o.object);
              lin.upsert(o.object);
            } else expect(idx.remove(o.ref)).toBe(lin.remove(o.ref));
            for (const r of reqs) expect(idx.authorize(r)).toEqual(lin.authorize(r));
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it("gives the same decisions with a tiny cache that evicts on almost every request, and with none", () => {
    fc.assert(
      fc.property(
        fc.array(rbacObject, { maxLength: 25 }),
        fc.array(request, { minLength: 1, maxLength: 30 }),
        (objects, reqs) => {
          const tiny = RbacIndex.from(objects, { maxSubjects: 2, maxScopes: 1 });
          const off = RbacIndex.from(objects, { maxSubjects: 0 });
          const lin = LinearRbac.from(objects);
          // Twice over, so that some requests hit and others were evicted in between.
          for (const r of [...reqs, ...reqs]) {
            const expected = lin.authorize(r);
            expect(tiny.authorize(r)).toEqual(expected);
            expect(off.authorize(r)).toEqual(expected);
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it("answers a repeated subject from the cache, and forgets it when a binding is added", () => {
    const idx = new RbacIndex();
    const user = { username: "alice", groups: ["dev", "system:authenticated"] };
    const get = {
      kind: "resource" as const,
      user,
      verb: "get",
      namespace: "a",
      apiGroup: "",
      apiVersion: "v1",
      resource: "pods",
      subresource: "",
      name: "",
    };
    expect(idx.authorize(get).decision).toBe("noOpinion");
    expect(idx.authorize({ ...get, user: { ...user, groups: [...user.groups] } }).decision).toBe("noOpinion");
    expect(idx.cacheStats()).toMatchObject({ subjects: 1, hits: 1, misses: 1 });
    idx.upsert({
      kind: "ClusterRole",
      apiVersion: "rbac.authorization.k8s.io/v1",
      metadata: { name: "reader" },
      rules: [{ verbs: ["get"], apiGroups: [""], resources: ["pods"] }],
    });
    const binding: RoleBinding = {
      kind: "RoleBinding",
      apiVersion: "rbac.authorization.k8s.io/v1",
      metadata: { name: "devs", namespace: "a" },
      subjects: [{ kind: "Group", apiGroup: "rbac.authorization.k8s.io", name: "dev" }],
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "reader" },
    };
    idx.upsert(binding);
    expect(idx.cacheStats().subjects).toBe(0);
    expect(idx.authorize(get)).toEqual({
      decision: "allow",
      reason: 'RBAC: allowed by RoleBinding "devs/a" of ClusterRole "reader" to Group "dev"',
    });
    idx.remove({ kind: "RoleBinding", name: "devs", namespace: "a" });
    expect(idx.authorize(get).decision).toBe("noOpinion");
  });
});
