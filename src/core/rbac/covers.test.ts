import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { breakdownRule, covers } from "./covers.js";
import { rulesAllow } from "./rule-match.js";
import { request, resourceRule, urlRule as urlRuleArb } from "../../../test/rbac/arbitraries.js";
import type { PolicyRule } from "./types.js";
import { rule, urlRule } from "../../../test/rbac/builders.js";

interface Case {
  name: string;
  owner: PolicyRule[];
  requested: PolicyRule[];
  uncovered: PolicyRule[];
}

const cases: Case[] = [
  {
    name: "an identical rule is covered",
    owner: [rule(["get"], [""], ["pods"])],
    requested: [rule(["get"], [""], ["pods"])],
    uncovered: [],
  },
  {
    name: "the verb * covers every verb",
    owner: [rule(["*"], [""], ["pods"])],
    requested: [rule(["get", "escalate"], [""], ["pods"])],
    uncovered: [],
  },
  {
    name: "a requested * verb is covered only by an owner * verb",
    owner: [rule(["get", "list", "watch"], [""], ["pods"])],
    requested: [rule(["*"], [""], ["pods"])],
    uncovered: [rule(["*"], [""], ["pods"])],
  },
  {
    name: "resources * and apiGroups * cover any resource in any group",
    owner: [rule(["get"], ["*"], ["*"])],
    requested: [rule(["get"], ["apps", ""], ["deployments/scale", "pods"])],
    uncovered: [],
  },
  {
    name: "a requested apiGroups * is not covered by a specific group",
    owner: [rule(["get"], ["", "apps"], ["pods"])],
    requested: [rule(["get"], ["*"], ["pods"])],
    uncovered: [rule(["get"], ["*"], ["pods"])],
  },
  {
    name: "*/scale covers the scale subresource of any resource",
    owner: [rule(["update"], ["apps"], ["*/scale"])],
    requested: [rule(["update"], ["apps"], ["deployments/scale", "statefulsets/scale"])],
    uncovered: [],
  },
  {
    name: "a resource does not cover its subresources",
    owner: [rule(["get"], [""], ["pods"])],
    requested: [rule(["get"], [""], ["pods/log"])],
    uncovered: [rule(["get"], [""], ["pods/log"])],
  },
  {
    name: "*/* covers a requested pods/* (coverage compares strings, not wildcards)",
    owner: [rule(["get"], [""], ["*/*"])],
    requested: [rule(["get"], [""], ["pods/*"])],
    uncovered: [],
  },
  {
    name: "an owner rule without resourceNames covers requests for particular names",
    owner: [rule(["get"], [""], ["secrets"])],
    requested: [rule(["get"], [""], ["secrets"], ["a", "b"])],
    uncovered: [],
  },
  {
    name: "an owner rule with resourceNames covers only those names",
    owner: [rule(["get"], [""], ["secrets"], ["a"])],
    requested: [rule(["get"], [""], ["secrets"], ["a", "b"])],
    uncovered: [rule(["get"], [""], ["secrets"], ["b"])],
  },
  {
    name: "an owner rule with resourceNames does not cover a request for every name",
    owner: [rule(["get"], [""], ["secrets"], ["a"])],
    requested: [rule(["get"], [""], ["secrets"])],
    uncovered: [rule(["get"], [""], ["secrets"])],
  },
  {
    name: "uncovered pieces come broken down, group then resource then verb",
    owner: [rule(["get"], [""], ["pods"])],
    requested: [rule(["get", "list"], [""], ["pods", "secrets"])],
    uncovered: [
      rule(["list"], [""], ["pods"]),
      rule(["get"], [""], ["secrets"]),
      rule(["list"], [""], ["secrets"]),
    ],
  },
  {
    name: "pieces may be covered by different owner rules",
    owner: [rule(["get"], [""], ["pods"]), rule(["list"], [""], ["pods"])],
    requested: [rule(["get", "list"], [""], ["pods"])],
    uncovered: [],
  },
  {
    name: "a non-resource URL prefix covers longer paths and narrower prefixes",
    owner: [urlRule(["get"], ["/api*"])],
    requested: [urlRule(["get"], ["/api/v1", "/apis*", "/api"])],
    uncovered: [],
  },
  {
    name: "a non-resource URL is not covered by a resource rule",
    owner: [rule(["*"], ["*"], ["*"])],
    requested: [urlRule(["get"], ["/healthz"])],
    uncovered: [urlRule(["get"], ["/healthz"])],
  },
  {
    name: "a resource rule is not covered by a URL rule",
    owner: [urlRule(["*"], ["*"])],
    requested: [rule(["get"], [""], ["pods"])],
    uncovered: [rule(["get"], [""], ["pods"])],
  },
  {
    name: "nothing is needed to cover an empty request",
    owner: [],
    requested: [],
    uncovered: [],
  },
  {
    name: "nothing covers something",
    owner: [],
    requested: [urlRule(["get", "post"], ["/metrics"])],
    uncovered: [urlRule(["get"], ["/metrics"]), urlRule(["post"], ["/metrics"])],
  },
];

describe("covers, as Kubernetes checks escalation", () => {
  it.each(cases)("$name", ({ owner, requested, uncovered }) => {
    expect(covers(owner, requested)).toEqual(uncovered);
  });

  it("breaks a rule down into one verb, group, resource and name each", () => {
    expect(breakdownRule(rule(["get", "list"], ["", "apps"], ["x"], ["n1", "n2"]))).toHaveLength(8);
    expect(breakdownRule(urlRule(["get"], ["/a", "/b"]))).toEqual([
      urlRule(["get"], ["/a"]),
      urlRule(["get"], ["/b"]),
    ]);
  });
});

describe("covers is sound", () => {
  it("when nothing is left uncovered, every request the requested rules allow, the owner rules allow too", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(resourceRule, urlRuleArb), { maxLength: 4 }),
        fc.array(fc.oneof(resourceRule, urlRuleArb), { maxLength: 3 }),
        fc.array(request, { minLength: 1, maxLength: 20 }),
        (owner, requested, reqs) => {
          if (covers(owner, requested).length > 0) return;
          for (const r of reqs) if (rulesAllow(r, requested)) expect(rulesAllow(r, owner)).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("a rule set always covers itself", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(resourceRule, urlRuleArb), { maxLength: 4 }), (rules) => {
        expect(covers(rules, rules)).toEqual([]);
      }),
    );
  });
});
