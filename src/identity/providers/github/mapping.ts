import { identityOf } from "../common.js";
import { ProviderRefusedError, type ExternalIdentity, type ProviderCommon } from "../types.js";

/** What GitHub's API says about the person: GET /user, /user/orgs, /user/teams (as JSON). */
export interface GitHubAnswers {
  user: unknown;
  orgs: unknown[];
  teams: unknown[];
}

export interface GitHubMappingSettings {
  /** Only members of one of these organisations may sign in; their groups come from these only. */
  allowedOrganizations: readonly string[];
  /** Add `org:team` groups (team slugs). */
  teams: boolean;
}

const str = (o: unknown, k: string): string | undefined => {
  const v = typeof o === "object" && o !== null ? (o as Record<string, unknown>)[k] : undefined;
  return typeof v === "string" && v !== "" ? v : undefined;
};

/**
 * A GitHub user as a Gatehouse identity (pure): the subject is the numeric user ID (a login can be
 * renamed and then taken by someone else), the username is the login, groups are the organisations
 * (`org`) and teams (`org:team`). Organisation names compare case-insensitively, as on GitHub.
 */
export function githubIdentity(
  common: ProviderCommon,
  s: GitHubMappingSettings,
  a: GitHubAnswers,
): ExternalIdentity {
  const rawId =
    typeof a.user === "object" && a.user !== null ? (a.user as Record<string, unknown>)["id"] : undefined;
  const id = typeof rawId === "number" && Number.isInteger(rawId) ? String(rawId) : undefined;
  const login = str(a.user, "login");
  if (id === undefined || login === undefined)
    throw new ProviderRefusedError(common.name, "GitHub's /user answer has no id or login");
  const allowed = new Set(s.allowedOrganizations.map((o) => o.toLowerCase()));
  const inScope = (org: string): boolean => allowed.size === 0 || allowed.has(org.toLowerCase());
  const orgs = a.orgs.map((o) => str(o, "login")).filter((o): o is string => o !== undefined);
  if (allowed.size > 0 && !orgs.some(inScope))
    throw new ProviderRefusedError(
      common.name,
      `${login} is not a member of any allowed organisation (${s.allowedOrganizations.join(", ")})`,
    );
  const groups = orgs.filter(inScope);
  if (s.teams)
    for (const t of a.teams) {
      const org = str(
        typeof t === "object" && t !== null ? (t as Record<string, unknown>)["organization"] : undefined,
        "login",
      );
      const slug = str(t, "slug");
      if (org !== undefined && slug !== undefined && inScope(org)) groups.push(`${org}:${slug}`);
    }
  const email = str(a.user, "email");
  const identity = identityOf(common, common.usernamePrefix, id, login, groups, {
    ...(email !== undefined ? { email } : {}),
  });
  if (!identity) throw new ProviderRefusedError(common.name, "GitHub named nobody");
  return identity;
}

/** GitHub.com or a GitHub Enterprise Server: where to sign in and where the API is. */
export function githubUrls(
  url: string | undefined,
  apiUrl: string | undefined,
): {
  authorizeUrl: string;
  tokenUrl: string;
  apiUrl: string;
} {
  const base = (url ?? "https://github.com").replace(/\/+$/, "");
  const api = apiUrl ?? (base === "https://github.com" ? "https://api.github.com" : `${base}/api/v3`);
  return {
    authorizeUrl: `${base}/login/oauth/authorize`,
    tokenUrl: `${base}/login/oauth/access_token`,
    apiUrl: api.replace(/\/+$/, ""),
  };
}
