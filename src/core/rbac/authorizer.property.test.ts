import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileRole, prepareRequest, roleAllows } from "./compiled-role.js";
import { Interner } from "./interner.js";
import { LinearRbac, RbacIndex, rulesAllow, subjectRulesReview, whoCan } from "./index.js";
import {
  NAMESPACES,
  op,
  rbacObject,
  request,
  resourceRule,
  urlRule,
  user,
  type Op,
} from "../../../test/rbac/arbitraries.js";

function apply(engines: { upsert: RbacIndex["upsert"]; remove: RbacIndex["remove"] }[], ops: Op[]): void {
  for (const o of ops) {
    for (const e of engines) {
      if (o.op === "upsert") e.upsert(o.object);
      else e.remove(o.ref);
    }
  }
}

describe("the indexed authorizer agrees with the linear, kube-apiserver-style evaluator", () => {
  it("gives identical decisions and reasons for random policies and requests", () => {
    fc.assert(
      fc.property(
        fc.array(rbacObject, { maxLength: 25 }),
        fc.array(request, { minLength: 1, maxLength: 20 }),
        (objects, reqs) => {
          const idx = RbacIndex.from(objects);
          const lin = LinearRbac.from(objects);
          for (const r of reqs) expect(idx.authorize(r)).toEqual(lin.authorize(r));
        },
      ),
      { numRuns: 1500 },
    );
  });

  it("stays identical through random sequences of adds, updates and removals", () => {
    fc.assert(
      fc.property(
        fc.array(op, { maxLength: 40 }),
        fc.array(request, { minLength: 1, maxLength: 10 }),
        (ops, reqs) => {
          const idx = new RbacIndex();
          const lin = new LinearRbac();
          // Check after every few operations, not only at the end, to catch stale index entries.
          for (let i = 0; i < ops.length; i += 5) {
            apply([idx, lin], ops.slice(i, i + 5));
            for (const r of reqs) expect(idx.authorize(r)).toEqual(lin.authorize(r));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("resolves the same rules, in the same order, for rules review", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 30 }), user, fc.constantFrom("", ...NAMESPACES), (ops, u, ns) => {
        const idx = new RbacIndex();
        const lin = new LinearRbac();
        apply([idx, lin], ops);
        expect(idx.rulesFor(u, ns)).toEqual(lin.rulesFor(u, ns));
        expect(subjectRulesReview(idx, u, ns)).toEqual(subjectRulesReview(lin, u, ns));
      }),
      { numRuns: 300 },
    );
  });

  it("answers who-can the same over either store", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 30 }), request, fc.boolean(), (ops, r, all) => {
        const idx = new RbacIndex();
        const lin = new LinearRbac();
        apply([idx, lin], ops);
        expect(whoCan(idx, r, { allNamespaces: all })).toEqual(whoCan(lin, r, { allNamespaces: all }));
      }),
      { numRuns: 200 },
    );
  });

  it("an allowed request is allowed by some rule from rules review", () => {
    fc.assert(
      fc.property(fc.array(rbacObject, { maxLength: 25 }), request, (objects, r) => {
        const idx = RbacIndex.from(objects);
        const ns = r.kind === "resource" ? r.namespace : "";
        const rules = idx.rulesFor(r.user, ns).rules.map((x) => x.rule);
        expect(idx.authorize(r).decision === "allow").toBe(rulesAllow(r, rules));
      }),
      { numRuns: 300 },
    );
  });
});

describe("compiled roles match exactly as the rule-by-rule reference", () => {
  it("agree on random rules and requests", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(resourceRule, urlRule), { maxLength: 5 }), request, (rules, r) => {
        const interner = new Interner();
        expect(roleAllows(compileRole(rules, interner), prepareRequest(r, interner))).toBe(
          rulesAllow(r, rules),
        );
      }),
      { numRuns: 2000 },
    );
  });
});
