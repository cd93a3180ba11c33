import { describe, expect, it } from "vitest";
import { ldapProviderFactory } from "./index.js";
import { parseLdapSection } from "./config.js";

const good = {
  url: "ldaps://ldap.example.com",
  bindDN: "cn=svc,dc=example,dc=com",
  bindPassword: "s3cret",
  userSearch: { baseDN: "ou=people,dc=example,dc=com" },
};

describe("spec.ldap validation", () => {
  it("fills in defaults and freezes the result", () => {
    const { settings, errors } = parseLdapSection(good);
    expect(errors).toEqual([]);
    expect(settings?.userSearch).toEqual({
      baseDN: "ou=people,dc=example,dc=com",
      filter: "(objectClass=person)",
      usernameAttribute: "uid",
      scope: "sub",
    });
    expect(settings?.attributes).toEqual({ username: "uid", email: "mail" });
    expect(settings?.insecureSkipVerify).toBe(false);
    expect(Object.isFrozen(settings?.userSearch)).toBe(true);
  });

  it("names secrets and validates through the factory", () => {
    expect(ldapProviderFactory.secretFields).toEqual(["bindPassword"]);
    expect(ldapProviderFactory.type).toBe("ldap");
    expect(ldapProviderFactory.validate(good)).toEqual([]);
  });

  it.each([
    [{ ...good, url: "http://x" }, "spec.ldap.url: must be ldap://HOST[:PORT] or ldaps://HOST[:PORT]"],
    [{ ...good, url: "ldap://x" }, "spec.ldap.url: ldap:// without startTLS sends passwords in clear"],
    [{ ...good, startTLS: true }, "spec.ldap.startTLS: ldaps:// is already TLS"],
    [{ ...good, bindPassword: undefined }, "spec.ldap.bindPassword: required"],
    [{ ...good, userSearch: undefined }, "spec.ldap.userSearch: required"],
    [
      { ...good, userSearch: { baseDN: "x", filter: "uid=*" } },
      "spec.ldap.userSearch.filter: must be one LDAP filter",
    ],
    [
      { ...good, userSearch: { baseDN: "x", filter: "(a=b))(c=d" } },
      "spec.ldap.userSearch.filter: must be one LDAP filter",
    ],
    [
      { ...good, userSearch: { baseDN: "x", usernameAttribute: "uid)(x" } },
      "spec.ldap.userSearch.usernameAttribute: must be an attribute name",
    ],
    [
      { ...good, userSearch: { baseDN: "x", scope: "tree" } },
      "spec.ldap.userSearch.scope: must be base, one or sub",
    ],
    [{ ...good, caData: "not pem" }, "spec.ldap.caData: must be PEM certificates"],
    [{ ...good, insecureSkipVerify: true, caFile: "/x" }, "spec.ldap.insecureSkipVerify: a CA is configured"],
    [{ ...good, insecureSkipVerify: "yes" }, "spec.ldap.insecureSkipVerify: must be true or false"],
    [{ ...good, nestedGroups: true }, "spec.ldap.nestedGroups: needs groupSearch or memberOfAttribute"],
    [
      { ...good, groupSearch: { baseDN: "x" }, memberOfAttribute: "memberOf" },
      "spec.ldap: set groupSearch or memberOfAttribute, not both",
    ],
    [{ ...good, groupSearch: {} }, "spec.ldap.groupSearch.baseDN: required"],
    [{ ...good, maxGroupDepth: 0 }, "spec.ldap.maxGroupDepth: must be a whole number from 1 to 50"],
    [{ ...good, bindPasword: "typo" }, "spec.ldap.bindPasword: unknown field"],
  ])("refuses %j", (section, message) => {
    const errors = parseLdapSection(section as Record<string, unknown>).errors;
    expect(errors.some((e) => e.startsWith(message))).toBe(true);
  });

  it("collects every problem at once", () => {
    expect(parseLdapSection({ url: "x" }).errors.length).toBeGreaterThanOrEqual(4);
  });

  it("accepts plain ldap:// only with startTLS or the explicitly unsafe flag", () => {
    expect(parseLdapSection({ ...good, url: "ldap://x:389", startTLS: true }).errors).toEqual([]);
    expect(parseLdapSection({ ...good, url: "ldap://x:389", insecurePlaintext: true }).errors).toEqual([]);
  });
});
