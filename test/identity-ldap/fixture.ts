import { BASE_DN, type TestSlapd } from "../harness/slapd.js";

/** An IdentityProvider object for the test directory. */
export function ldapProvider(
  slapd: TestSlapd,
  name: string,
  ldap: Record<string, unknown> = {},
  spec: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    apiVersion: "gatehouse.io/v1alpha1",
    kind: "IdentityProvider",
    metadata: { name },
    spec: {
      type: "ldap",
      displayName: "Corp directory",
      groupsPrefix: "ldap:",
      usernamePrefix: "-",
      timeoutSeconds: 3,
      ...spec,
      ldap: {
        url: slapd.ldapsUrl,
        caData: slapd.caPem,
        bindDN: slapd.serviceDN,
        bindPassword: slapd.servicePassword,
        userSearch: {
          baseDN: `ou=people,${BASE_DN}`,
          filter: "(&(objectClass=inetOrgPerson)(!(employeeType=disabled)))",
          usernameAttribute: "uid",
        },
        groupSearch: { baseDN: `ou=groups,${BASE_DN}`, filter: "(objectClass=groupOfNames)" },
        nestedGroups: true,
        ...ldap,
      },
    },
  };
}
