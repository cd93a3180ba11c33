import { describe, expect, it } from "vitest";
import { commonOf, mapGroups, validateCommon } from "../../src/identity/providers/common.js";
import { githubIdentity, githubUrls } from "../../src/identity/providers/github/mapping.js";
import { oauth2Identity } from "../../src/identity/providers/oauth2/index.js";
import { oidcUsernamePrefix, validateOidc } from "../../src/identity/providers/oidc/index.js";
import { validateGitHub } from "../../src/identity/providers/github/index.js";
import { ProviderRefusedError } from "../../src/identity/providers/types.js";

const common = (spec: Record<string, unknown> = {}) => commonOf("gh", { type: "github", ...spec });

describe("kube-apiserver's username prefix semantics for OIDC", () => {
  const issuer = "https://sso.example.com";
  it.each([
    [{}, "sub", "https://sso.example.com#"],
    [{}, "email", ""],
    [{}, "preferred_username", "https://sso.example.com#"],
    [{ usernamePrefix: "-" }, "sub", ""],
    [{ usernamePrefix: "corp:" }, "email", "corp:"],
    [{ usernamePrefix: "" }, "sub", ""],
  ])("spec %j with usernameClaim %s prefixes usernames with %j", (spec, claim, prefix) => {
    expect(oidcUsernamePrefix(commonOf("corp", { type: "oidc", ...spec }), issuer, claim)).toBe(prefix);
  });
});

describe("GitHub organisations and teams become groups", () => {
  const user = { id: 4242, login: "octo", email: "octo@example.com" };
  const orgs = [{ login: "Acme" }, { login: "other-org" }];
  const teams = [
    { slug: "platform", organization: { login: "Acme" } },
    { slug: "sre", organization: { login: "other-org" } },
  ];

  it("maps the numeric ID to the subject, the login to the username, orgs to org and teams to org:team", () => {
    const id = githubIdentity(
      common({ groupsPrefix: "github:" }),
      { allowedOrganizations: [], teams: true },
      { user, orgs, teams },
    );
    expect(id).toEqual({
      provider: "gh",
      subject: "4242",
      username: "octo",
      email: "octo@example.com",
      groups: ["github:Acme", "github:Acme:platform", "github:other-org", "github:other-org:sre"],
    });
  });

  it("keeps only the allowed organisations' groups, comparing names case-insensitively", () => {
    const id = githubIdentity(
      common(),
      { allowedOrganizations: ["acme"], teams: true },
      { user, orgs, teams },
    );
    expect(id.groups).toEqual(["Acme", "Acme:platform"]);
  });

  it("refuses a user in none of the allowed organisations", () => {
    expect(() =>
      githubIdentity(
        common(),
        { allowedOrganizations: ["acme"], teams: true },
        { user, orgs: [{ login: "x" }], teams: [] },
      ),
    ).toThrow(ProviderRefusedError);
  });

  it("leaves teams out when teams is false, and applies the username prefix", () => {
    const id = githubIdentity(
      common({ usernamePrefix: "gh:" }),
      { allowedOrganizations: [], teams: false },
      { user, orgs, teams },
    );
    expect(id.username).toBe("gh:octo");
    expect(id.groups).toEqual(["Acme", "other-org"]);
  });

  it("refuses answers without a numeric id or a login", () => {
    for (const u of [{ login: "octo" }, { id: "4242", login: "octo" }, { id: 4242 }, null])
      expect(() =>
        githubIdentity(common(), { allowedOrganizations: [], teams: true }, { user: u, orgs: [], teams: [] }),
      ).toThrow(ProviderRefusedError);
  });

  it("finds GitHub Enterprise Server's sign-in and API under its URL", () => {
    expect(githubUrls(undefined, undefined)).toEqual({
      authorizeUrl: "https://github.com/login/oauth/authorize",
      tokenUrl: "https://github.com/login/oauth/access_token",
      apiUrl: "https://api.github.com",
    });
    expect(githubUrls("https://ghe.example.com/", undefined)).toEqual({
      authorizeUrl: "https://ghe.example.com/login/oauth/authorize",
      tokenUrl: "https://ghe.example.com/login/oauth/access_token",
      apiUrl: "https://ghe.example.com/api/v3",
    });
    expect(githubUrls("https://ghe.example.com", "https://api.ghe.example.com").apiUrl).toBe(
      "https://api.ghe.example.com",
    );
  });
});

describe("generic OAuth2 user info mapping", () => {
  const f = { subjectField: "id", usernameField: "user.login", groupsField: "roles" };
  it("reads subject, username and groups by dotted paths; numbers become strings", () => {
    const id = oauth2Identity(commonOf("o", { type: "oauth2", groupsPrefix: "o:" }), f, {
      id: 7,
      user: { login: "kim" },
      roles: ["b", "a", "a", ""],
    });
    expect(id).toMatchObject({ subject: "7", username: "kim", groups: ["o:a", "o:b"] });
  });
  it("refuses user info without subject or username", () => {
    const c = commonOf("o", { type: "oauth2" });
    expect(() => oauth2Identity(c, f, { user: { login: "kim" } })).toThrow(ProviderRefusedError);
    expect(() => oauth2Identity(c, f, { id: 7 })).toThrow(ProviderRefusedError);
  });
});

describe("IdentityProvider spec validation", () => {
  it("lists every problem with the shared fields", () => {
    expect(validateCommon({ type: "kerberos", timeoutSeconds: 0, disabled: "no", extra: 1 })).toEqual([
      "spec.type: must be one of oidc, oauth2, github, ldap, saml",
      "spec.timeoutSeconds: must be a whole number of seconds from 1 to 120",
      "spec.disabled: must be true or false",
      "spec.extra: unknown field",
      "spec.kerberos: required: the settings of the kerberos provider",
    ]);
    expect(validateCommon({ type: "oidc", oidc: {}, github: {} })).toEqual([
      "spec.github: only spec.oidc may be set for type oidc",
    ]);
  });
  it("checks the OIDC and GitHub sections", () => {
    expect(
      validateOidc({ issuer: "http://sso.example.com", scopes: ["email"], caData: "bm9wZQ==", x: 1 }),
    ).toEqual([
      "spec.oidc.x: unknown field",
      "spec.oidc.issuer: must be an https:// URL",
      "spec.oidc.clientId: required",
      'spec.oidc.scopes: must include "openid"',
      "spec.oidc.caData: must be base64 of PEM CA certificates (as certificate-authority-data in a kubeconfig)",
    ]);
    expect(validateGitHub({ clientId: "id" })).toEqual(["spec.github.clientSecret: required"]);
  });
  it("sorts and de-duplicates prefixed groups", () => {
    expect(mapGroups("p:", ["b", "a", "b", ""])).toEqual(["p:a", "p:b"]);
  });
});
