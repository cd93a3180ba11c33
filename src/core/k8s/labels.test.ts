import { describe, expect, it } from "vitest";
import { matchesSelector, parseSelectorString } from "./labels.js";

describe("label selectors", () => {
  it("an empty selector matches everything and a missing one matches nothing", () => {
    expect(matchesSelector({}, { a: "1" })).toBe(true);
    expect(matchesSelector(undefined, { a: "1" })).toBe(false);
    expect(matchesSelector(null, {})).toBe(false);
  });
  it("matchLabels and matchExpressions are ANDed", () => {
    const sel = {
      matchLabels: { env: "prod" },
      matchExpressions: [{ key: "tier", operator: "In" as const, values: ["web"] }],
    };
    expect(matchesSelector(sel, { env: "prod", tier: "web" })).toBe(true);
    expect(matchesSelector(sel, { env: "prod", tier: "db" })).toBe(false);
    expect(matchesSelector(sel, { tier: "web" })).toBe(false);
  });
  it("NotIn matches when the key is absent, DoesNotExist only when absent", () => {
    expect(matchesSelector({ matchExpressions: [{ key: "a", operator: "NotIn", values: ["x"] }] }, {})).toBe(
      true,
    );
    expect(matchesSelector({ matchExpressions: [{ key: "a", operator: "DoesNotExist" }] }, { a: "" })).toBe(
      false,
    );
    expect(matchesSelector({ matchExpressions: [{ key: "a", operator: "Exists" }] }, { a: "" })).toBe(true);
  });
  it("an invalid requirement matches nothing", () => {
    expect(
      matchesSelector({ matchExpressions: [{ key: "a", operator: "In", values: [] }] }, { a: "x" }),
    ).toBe(false);
    expect(
      matchesSelector({ matchExpressions: [{ key: "a", operator: "Exists", values: ["x"] }] }, { a: "x" }),
    ).toBe(false);
  });
  it("parses kubectl's selector strings", () => {
    expect(parseSelectorString("env=prod,tier!=web,region in (eu, us),!legacy,team")).toEqual({
      matchLabels: { env: "prod" },
      matchExpressions: [
        { key: "tier", operator: "NotIn", values: ["web"] },
        { key: "region", operator: "In", values: ["eu", "us"] },
        { key: "legacy", operator: "DoesNotExist" },
        { key: "team", operator: "Exists" },
      ],
    });
    expect(() => parseSelectorString("a=(b")).toThrow(/invalid label selector/);
  });
});
