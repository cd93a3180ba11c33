import { describe, expect, it } from "vitest";
import { impersonatedUser, parseServiceAccountUsername } from "./subjects.js";
import { goCompare, goQuote } from "./go-quote.js";

describe("users as kube-apiserver's impersonation builds them", () => {
  it.each([
    ["a plain user gets system:authenticated", "alice", [], ["system:authenticated"]],
    [
      "requested groups are kept and system:authenticated added",
      "alice",
      ["dev"],
      ["dev", "system:authenticated"],
    ],
    ["system:authenticated is not added twice", "alice", ["system:authenticated"], ["system:authenticated"]],
    [
      "asking for system:unauthenticated suppresses system:authenticated",
      "alice",
      ["system:unauthenticated"],
      ["system:unauthenticated"],
    ],
    [
      "a service account without groups gets its service-account groups",
      "system:serviceaccount:ci:builder",
      [],
      ["system:serviceaccounts", "system:serviceaccounts:ci", "system:authenticated"],
    ],
    [
      "a service account with groups gets only those",
      "system:serviceaccount:ci:builder",
      ["x"],
      ["x", "system:authenticated"],
    ],
    ["system:anonymous gets system:unauthenticated", "system:anonymous", [], ["system:unauthenticated"]],
    [
      "a malformed service account name is a plain user",
      "system:serviceaccount:a:b:c",
      [],
      ["system:authenticated"],
    ],
  ])("%s", (_name, user, groups, want) => {
    expect(impersonatedUser(user, groups).groups).toEqual(want);
  });

  it("splits service account usernames as serviceaccount.SplitUsername does", () => {
    expect(parseServiceAccountUsername("system:serviceaccount:ci:builder")).toEqual({
      namespace: "ci",
      name: "builder",
    });
    expect(parseServiceAccountUsername("system:serviceaccount:ci")).toBeNull();
    expect(parseServiceAccountUsername("system:serviceaccount:Ci:builder")).toBeNull();
    expect(parseServiceAccountUsername("system:serviceaccounts:ci:builder")).toBeNull();
  });
});

describe("Go string formatting", () => {
  it.each([
    ["plain", '"plain"'],
    ['q"uote\\', '"q\\"uote\\\\"'],
    ["tab\tnl\n\x00\x7f", '"tab\\tnl\\n\\x00\\x7f"'],
    ["caf\u00e9 \u4e2d", '"caf\u00e9 \u4e2d"'],
    ["zero\u200bwidth", '"zero\\u200bwidth"'],
    ["emoji \u{1F600}", '"emoji \u{1F600}"'],
    ["private \u{F0000}", '"private \\U000f0000"'],
  ])("quotes %j as %%q does", (input, want) => {
    expect(goQuote(input)).toBe(want);
  });

  it("compares strings in UTF-8 byte order", () => {
    expect(goCompare("\uffff", "\u{10000}")).toBe(-1);
    expect("\uffff" < "\u{10000}").toBe(false);
    expect(goCompare("a", "ab")).toBe(-1);
    expect(goCompare("b", "a")).toBe(1);
    expect(goCompare("x", "x")).toBe(0);
  });
});
