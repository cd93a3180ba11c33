import { describe, expect, it } from "vitest";
import { aggregateClusterRoles } from "./aggregate.js";
import type { ClusterRole } from "./types.js";
import { clusterRole, rule } from "../../../test/rbac/builders.js";

const get = (r: string) => rule(["get"], [""], [r]);

function rulesOf(roles: ClusterRole[], name: string) {
  return aggregateClusterRoles(roles).clusterRoles.find((r) => r.metadata.name === name)?.rules;
}

describe("ClusterRole aggregation, as the aggregation controller fills it", () => {
  it("gathers the rules of matching roles sorted by name, whatever the input order", () => {
    const roles = [
      clusterRole("agg", [], { selectors: [{ matchLabels: { team: "x" } }] }),
      clusterRole("zeta", [get("z")], { labels: { team: "x" } }),
      clusterRole("alpha", [get("a1"), get("a2")], { labels: { team: "x" } }),
      clusterRole("other", [get("o")], { labels: { team: "y" } }),
    ];
    expect(rulesOf(roles, "agg")).toEqual([get("a1"), get("a2"), get("z")]);
  });

  it("takes selectors in order: all roles of the first selector before those of the second", () => {
    const roles = [
      clusterRole("agg", [], { selectors: [{ matchLabels: { s: "2" } }, { matchLabels: { s: "1" } }] }),
      clusterRole("a", [get("a")], { labels: { s: "1" } }),
      clusterRole("b", [get("b")], { labels: { s: "2" } }),
    ];
    expect(rulesOf(roles, "agg")).toEqual([get("b"), get("a")]);
  });

  it("drops a rule equal to one already gathered, treating absent and empty lists as equal", () => {
    const roles = [
      clusterRole("agg", [], { selectors: [{ matchLabels: { t: "x" } }] }),
      clusterRole("a", [get("p")], { labels: { t: "x" } }),
      clusterRole("b", [{ verbs: ["get"], apiGroups: [""], resources: ["p"], resourceNames: [] }, get("q")], {
        labels: { t: "x" },
      }),
    ];
    expect(rulesOf(roles, "agg")).toEqual([get("p"), get("q")]);
  });

  it("keeps rules that differ only in order as distinct", () => {
    const roles = [
      clusterRole("agg", [], { selectors: [{ matchLabels: { t: "x" } }] }),
      clusterRole("a", [rule(["get", "list"], [""], ["p"])], { labels: { t: "x" } }),
      clusterRole("b", [rule(["list", "get"], [""], ["p"])], { labels: { t: "x" } }),
    ];
    expect(rulesOf(roles, "agg")).toHaveLength(2);
  });

  it("skips the aggregating role itself when its own labels match", () => {
    const roles = [
      clusterRole("agg", [get("self")], { labels: { t: "x" }, selectors: [{ matchLabels: { t: "x" } }] }),
      clusterRole("a", [get("a")], { labels: { t: "x" } }),
    ];
    expect(rulesOf(roles, "agg")).toEqual([get("a")]);
  });

  it("replaces hand-written rules, and leaves none when nothing matches", () => {
    const roles = [clusterRole("agg", [get("stale")], { selectors: [{ matchLabels: { t: "none" } }] })];
    expect(rulesOf(roles, "agg")).toEqual([]);
  });

  it("supports matchExpressions, and an empty selector matches every ClusterRole", () => {
    const roles = [
      clusterRole("expr", [], {
        selectors: [{ matchExpressions: [{ key: "t", operator: "In", values: ["x", "y"] }] }],
      }),
      clusterRole("every", [], { selectors: [{}] }),
      clusterRole("a", [get("a")], { labels: { t: "y" } }),
      clusterRole("b", [get("b")]),
    ];
    expect(rulesOf(roles, "expr")).toEqual([get("a")]);
    expect(rulesOf(roles, "every")).toEqual([get("a"), get("b")]);
  });

  it("follows chains of aggregated roles to a fixed point (admin gathers edit, which gathers view)", () => {
    const roles = [
      clusterRole("admin", [], { selectors: [{ matchLabels: { "to-admin": "true" } }] }),
      clusterRole("edit", [], {
        labels: { "to-admin": "true" },
        selectors: [{ matchLabels: { "to-edit": "true" } }],
      }),
      clusterRole("view", [], {
        labels: { "to-edit": "true" },
        selectors: [{ matchLabels: { "to-view": "true" } }],
      }),
      clusterRole("pods-view", [get("pods")], { labels: { "to-view": "true" } }),
      clusterRole("deploy-edit", [rule(["update"], ["apps"], ["deployments"])], {
        labels: { "to-edit": "true" },
      }),
    ];
    const result = aggregateClusterRoles(roles);
    expect(result.converged).toBe(true);
    const admin = result.clusterRoles.find((r) => r.metadata.name === "admin");
    expect(admin?.rules).toEqual([rule(["update"], ["apps"], ["deployments"]), get("pods")]);
  });

  it("leaves a role with an invalid selector as it was, as the controller fails to sync it", () => {
    const roles = [
      clusterRole("bad", [get("kept")], {
        selectors: [{ matchExpressions: [{ key: "t", operator: "In", values: [] }] }],
      }),
      clusterRole("a", [get("a")], { labels: { t: "x" } }),
    ];
    expect(rulesOf(roles, "bad")).toEqual([get("kept")]);
  });

  it("keeps input order and leaves roles without an aggregationRule untouched", () => {
    const a = clusterRole("a", [get("a")], { labels: { t: "x" } });
    const roles = [a, clusterRole("agg", [], { selectors: [{ matchLabels: { t: "x" } }] })];
    const out = aggregateClusterRoles(roles);
    expect(out.clusterRoles[0]).toBe(a);
    expect(out.aggregated).toEqual(["agg"]);
  });
});
