import { SectionChecker, identityOf, stringsOf } from "../common.js";
import {
  ProviderRefusedError,
  type ExternalIdentity,
  type ProviderCheck,
  type ProviderCommon,
  type ProviderFactory,
} from "../types.js";
import { OAuth2Base } from "./base.js";
import { fieldAt, getJSON } from "./client.js";

const FIELDS = [
  "authorizeUrl",
  "tokenUrl",
  "userinfoUrl",
  "clientId",
  "clientSecret",
  "clientAuth",
  "scopes",
  "pkce",
  "subjectField",
  "usernameField",
  "groupsField",
  "caData",
  "caFile",
] as const;

export function validateOAuth2(s: Record<string, unknown>): string[] {
  const c = new SectionChecker("oauth2", s, FIELDS);
  c.url("authorizeUrl", true);
  c.url("tokenUrl", true);
  c.url("userinfoUrl", true);
  c.string("clientId", true);
  c.string("clientSecret", false);
  if (s["clientAuth"] !== undefined && s["clientAuth"] !== "basic" && s["clientAuth"] !== "post")
    c.problems.push("spec.oauth2.clientAuth: must be basic (HTTP Basic) or post (in the form body)");
  c.strings("scopes");
  c.boolean("pkce");
  c.string("subjectField", false);
  c.string("usernameField", false);
  c.string("groupsField", false);
  c.caData("caData");
  c.string("caFile", false);
  return c.problems;
}

interface Fields {
  userinfoUrl: string;
  subjectField: string;
  usernameField: string;
  groupsField: string;
}

/**
 * A plain OAuth 2.0 server: the code flow (with PKCE unless `pkce: false`), then the user-info URL
 * called with the access token; subject, username and groups are read from its JSON by field paths.
 */
export class OAuth2Provider extends OAuth2Base {
  readonly type = "oauth2";

  constructor(
    common: ProviderCommon,
    s: Record<string, unknown>,
    private readonly f: Fields,
  ) {
    super(
      common,
      {
        provider: common.name,
        authorizeUrl: s["authorizeUrl"] as string,
        tokenUrl: s["tokenUrl"] as string,
        clientId: s["clientId"] as string,
        clientSecret: s["clientSecret"] as string | undefined,
        clientAuth: s["clientAuth"] === "post" ? "post" : "basic",
        scopes: (s["scopes"] as string[] | undefined) ?? [],
        pkce: s["pkce"] !== false,
      },
      s,
    );
  }

  protected async identify(accessToken: string): Promise<ExternalIdentity> {
    const info = await getJSON(this.http(), this.name, this.f.userinfoUrl, accessToken);
    return oauth2Identity(this.common, this.f, info);
  }

  protected async checks(): Promise<ProviderCheck[]> {
    return [
      await this.reachable("authorize URL", this.endpoints.authorizeUrl),
      await this.reachable("token URL", this.endpoints.tokenUrl),
      await this.reachable("userinfo URL", this.f.userinfoUrl),
    ];
  }
}

/** The identity in a user-info document (pure). */
export function oauth2Identity(
  common: ProviderCommon,
  f: Omit<Fields, "userinfoUrl">,
  info: unknown,
): ExternalIdentity {
  const sub = fieldAt(info, f.subjectField);
  const user = fieldAt(info, f.usernameField);
  const subject = typeof sub === "number" ? String(sub) : sub;
  if (typeof subject !== "string" || subject === "")
    throw new ProviderRefusedError(common.name, `the user info has no ${f.subjectField}`);
  if (typeof user !== "string" || user === "")
    throw new ProviderRefusedError(common.name, `the user info has no ${f.usernameField}`);
  const email = fieldAt(info, "email");
  const id = identityOf(
    common,
    common.usernamePrefix,
    subject,
    user,
    stringsOf(fieldAt(info, f.groupsField)),
    {
      ...(typeof email === "string" ? { email } : {}),
    },
  );
  if (!id) throw new ProviderRefusedError(common.name, "the user info names nobody");
  return id;
}

export const oauth2Factory: ProviderFactory = {
  type: "oauth2",
  secretFields: ["clientSecret"],
  validate: validateOAuth2,
  create: (common, s) =>
    new OAuth2Provider(common, s, {
      userinfoUrl: s["userinfoUrl"] as string,
      subjectField: (s["subjectField"] as string | undefined) ?? "sub",
      usernameField: (s["usernameField"] as string | undefined) ?? "sub",
      groupsField: (s["groupsField"] as string | undefined) ?? "groups",
    }),
};
