import { SectionChecker } from "../common.js";
import { OAuth2Base } from "../oauth2/base.js";
import { getJSON } from "../oauth2/client.js";
import type { ExternalIdentity, ProviderCheck, ProviderCommon, ProviderFactory } from "../types.js";
import { githubIdentity, githubUrls, type GitHubMappingSettings } from "./mapping.js";

const FIELDS = [
  "clientId",
  "clientSecret",
  "url",
  "apiUrl",
  "allowedOrganizations",
  "teams",
  "caData",
  "caFile",
] as const;

export function validateGitHub(s: Record<string, unknown>): string[] {
  const c = new SectionChecker("github", s, FIELDS);
  c.string("clientId", true);
  c.string("clientSecret", true);
  c.url("url", false);
  c.url("apiUrl", false);
  c.strings("allowedOrganizations");
  c.boolean("teams");
  c.caData("caData");
  c.string("caFile", false);
  return c.problems;
}

/** Pages of a GitHub list API (100 per page, at most 10 pages). */
const PAGES = 10;

/**
 * GitHub (github.com or GitHub Enterprise Server with `url`/`apiUrl`) as an OAuth app: scopes
 * `read:user read:org`, organisations and teams become groups (see mapping.ts).
 */
export class GitHubProvider extends OAuth2Base {
  readonly type = "github";

  constructor(
    common: ProviderCommon,
    s: Record<string, unknown>,
    private readonly apiUrl: string,
    private readonly mapping: GitHubMappingSettings,
  ) {
    const urls = githubUrls(s["url"] as string | undefined, s["apiUrl"] as string | undefined);
    super(
      common,
      {
        provider: common.name,
        authorizeUrl: urls.authorizeUrl,
        tokenUrl: urls.tokenUrl,
        clientId: s["clientId"] as string,
        clientSecret: s["clientSecret"] as string,
        clientAuth: "post",
        scopes: ["read:user", "read:org"],
        pkce: true,
      },
      s,
    );
  }

  protected async identify(accessToken: string): Promise<ExternalIdentity> {
    const user = await getJSON(this.http(), this.name, `${this.apiUrl}/user`, accessToken);
    const orgs = await this.list(`${this.apiUrl}/user/orgs`, accessToken);
    const teams = this.mapping.teams ? await this.list(`${this.apiUrl}/user/teams`, accessToken) : [];
    return githubIdentity(this.common, this.mapping, { user, orgs, teams });
  }

  protected async checks(): Promise<ProviderCheck[]> {
    return [
      await this.reachable("sign-in page", this.endpoints.authorizeUrl),
      await this.reachable("API", `${this.apiUrl}/meta`),
    ];
  }

  private async list(url: string, token: string): Promise<unknown[]> {
    const all: unknown[] = [];
    for (let page = 1; page <= PAGES; page++) {
      const items = await getJSON(this.http(), this.name, `${url}?per_page=100&page=${page}`, token);
      if (!Array.isArray(items)) break;
      all.push(...(items as unknown[]));
      if (items.length < 100) break;
    }
    return all;
  }
}

export const githubFactory: ProviderFactory = {
  type: "github",
  secretFields: ["clientSecret"],
  validate: validateGitHub,
  create(common, s) {
    const urls = githubUrls(s["url"] as string | undefined, s["apiUrl"] as string | undefined);
    return new GitHubProvider(common, s, urls.apiUrl, {
      allowedOrganizations: (s["allowedOrganizations"] as string[] | undefined) ?? [],
      teams: s["teams"] !== false,
    });
  },
};
