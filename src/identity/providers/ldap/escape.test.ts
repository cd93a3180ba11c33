import { describe, expect, it } from "vitest";
import { escapeDNValue, escapeFilterValue, firstRDNValue } from "./escape.js";
import { IN_CHAIN_RULE, memberFilter } from "./groups.js";

describe("escapeFilterValue (RFC 4515)", () => {
  it.each([
    ["alice", "alice"],
    ["*", "\\2a"],
    ["*)(uid=*", "\\2a\\29\\28uid=\\2a"],
    ["alice)(|(uid=*", "alice\\29\\28|\\28uid=\\2a"],
    ["a\\b", "a\\5cb"],
    ["\\2a", "\\5c2a"],
    ["alice\0", "alice\\00"],
    ["line\nbreak", "line\\0abreak"],
    ["Émile 山田", "Émile 山田"],
    ["cn=x,dc=y", "cn=x,dc=y"],
  ])("%j → %j", (input, out) => {
    expect(escapeFilterValue(input)).toBe(out);
  });

  it("leaves no character that could open, close or wildcard a filter", () => {
    const nasty = "*()\\\0" + String.fromCharCode(1, 31, 127);
    expect(escapeFilterValue(nasty)).toMatch(/^(\\[0-9a-f]{2})+$/);
  });
});

describe("escapeDNValue (RFC 4514)", () => {
  it.each([
    ["alice", "alice"],
    ["Smith, John", "Smith\\, John"],
    ['a+b"c;d<e>f\\g=h', 'a\\+b\\"c\\;d\\<e\\>f\\\\g\\=h'],
    [" lead", "\\ lead"],
    ["trail ", "trail\\ "],
    ["#hash", "\\#hash"],
    ["mid#dle", "mid#dle"],
    ["nul\0", "nul\\00"],
  ])("%j → %j", (input, out) => {
    expect(escapeDNValue(input)).toBe(out);
  });

  it("round-trips through firstRDNValue", () => {
    for (const v of ["Smith, John", " x ", "#y", "a+b", "ops\\eu", "ünï"])
      expect(firstRDNValue(`cn=${escapeDNValue(v)},ou=groups,dc=x`)).toBe(v.trim());
  });
});

describe("firstRDNValue", () => {
  it.each([
    ["cn=developers,ou=groups,dc=example,dc=test", "developers"],
    ["CN=Domain Admins,CN=Users,DC=corp,DC=local", "Domain Admins"],
    ["cn=ops\\2C eu,ou=groups", "ops, eu"],
    ["cn=caf\\C3\\A9,dc=x", "café"],
    ["cn=a+uid=b,dc=x", "a"],
    ["no-equals-sign", undefined],
    ["cn=,dc=x", undefined],
  ])("%j → %j", (dn, name) => {
    expect(firstRDNValue(dn)).toBe(name);
  });
});

describe("memberFilter", () => {
  const gs = {
    baseDN: "ou=g",
    filter: "(objectClass=group)",
    memberAttribute: "member",
    userAttribute: "DN",
    nameAttribute: "cn",
    scope: "sub" as const,
  };

  it("escapes the member DN (DNs may hold \\, ( and *)", () => {
    expect(memberFilter(gs, "CN=O\\2C (Brien)*,DC=x", false)).toBe(
      "(&(objectClass=group)(member=CN=O\\5c2C \\28Brien\\29\\2a,DC=x))",
    );
  });

  it("uses AD's in-chain matching rule for nested groups", () => {
    expect(memberFilter(gs, "CN=a,DC=x", true)).toBe(
      `(&(objectClass=group)(member:${IN_CHAIN_RULE}:=CN=a,DC=x))`,
    );
  });
});
