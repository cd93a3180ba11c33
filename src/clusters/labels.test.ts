import { describe, expect, it } from "vitest";
import {
  applyLabelChanges,
  labelKeyProblems,
  labelValueProblems,
  parseLabelArgs,
  validateLabels,
} from "./labels.js";

describe("label syntax, as Kubernetes validates it", () => {
  it.each([
    ["env", true],
    ["app.kubernetes.io/name", true],
    ["example.com/team_a", true],
    ["a", true],
    ["x".repeat(63), true],
    ["x".repeat(64), false],
    ["-env", false],
    ["env-", false],
    ["Example.com/env", false],
    ["/env", false],
    ["example.com/", false],
    ["has space", false],
  ])("key %j valid: %s", (key, ok) => {
    expect(labelKeyProblems(key).length === 0).toBe(ok);
  });

  it.each([
    ["", true],
    ["prod", true],
    ["eu-west-1", true],
    ["v1.2_3", true],
    ["x".repeat(64), false],
    ["-prod", false],
    ["a/b", false],
    ["with space", false],
  ])("value %j valid: %s", (value, ok) => {
    expect(labelValueProblems(value).length === 0).toBe(ok);
  });

  it("names each bad label", () => {
    expect(validateLabels({ ok: "fine", "bad key": "x", k: "bad value" })).toEqual([
      "metadata.labels[\"bad key\"]: key name part must be at most 63 characters of alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric",
      "metadata.labels[\"k\"]: value must be at most 63 characters of alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric",
    ]);
  });
});

describe("kubectl label semantics", () => {
  it("parses KEY=VALUE to set and KEY- to remove", () => {
    expect(parseLabelArgs(["env=prod", "team-", "empty="])).toEqual({
      set: { env: "prod", empty: "" },
      remove: ["team"],
    });
  });

  it.each([
    [["env"], "expected KEY=VALUE"],
    [["env=a", "env=b"], "given twice"],
    [["env=a", "env-"], "both set and removed"],
    [["bad key=x"], "key name part"],
    [["k=bad value"], "value must be"],
  ])("refuses %j", (args, message) => {
    expect(() => parseLabelArgs(args)).toThrow(message);
  });

  it("sets new labels and keeps equal ones without --overwrite", () => {
    expect(applyLabelChanges({ env: "dev" }, { set: { env: "dev", team: "a" }, remove: [] }, false)).toEqual({
      labels: { env: "dev", team: "a" },
      changed: true,
    });
  });

  it("refuses to change a value without --overwrite, naming every clash", () => {
    expect(() =>
      applyLabelChanges({ env: "dev", t: "1" }, { set: { env: "prod", t: "2" }, remove: [] }, false),
    ).toThrow(
      "'env' already has a value (dev), and --overwrite is false; 't' already has a value (1), and --overwrite is false",
    );
    expect(applyLabelChanges({ env: "dev" }, { set: { env: "prod" }, remove: [] }, true).labels).toEqual({
      env: "prod",
    });
  });

  it("removes labels, and removing an absent one changes nothing", () => {
    expect(applyLabelChanges({ env: "dev", t: "1" }, { set: {}, remove: ["t"] }, false)).toEqual({
      labels: { env: "dev" },
      changed: true,
    });
    expect(applyLabelChanges({ env: "dev" }, { set: {}, remove: ["nope"] }, false)).toEqual({
      labels: { env: "dev" },
      changed: false,
    });
  });
});
