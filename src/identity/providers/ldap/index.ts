import type { ProviderFactory } from "../types.js";
import { parseLdapSection } from "./config.js";
import { LdapProvider } from "./provider.js";

export { LdapProvider } from "./provider.js";
export { parseLdapSection, type LdapSettings } from "./config.js";
export { escapeDNValue, escapeFilterValue, firstRDNValue } from "./escape.js";
export { IN_CHAIN_RULE, memberFilter } from "./groups.js";

/** `type: ldap` IdentityProviders: LDAP servers and Active Directory (spec.ldap). */
export const ldapProviderFactory: ProviderFactory = {
  type: "ldap",
  secretFields: ["bindPassword"],
  validate: (section) => parseLdapSection(section).errors,
  create(common, section) {
    const { settings, errors } = parseLdapSection(section);
    if (!settings) throw new Error(`invalid spec.ldap: ${errors.join("; ")}`);
    return new LdapProvider(common, settings);
  },
};
