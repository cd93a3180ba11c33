import { createHash, randomBytes } from "node:crypto";
import type { ProviderFetch } from "../http.js";
import { ProviderRefusedError, ProviderUnavailableError } from "../types.js";

/**
 * The few OAuth 2.0 calls the generic OAuth2 and GitHub providers make (RFC 6749 §4.1 with PKCE,
 * RFC 7636; refresh §6). Kept small and explicit: a plain OAuth2 server issues no ID token, so
 * who signed in comes from a user-info API called with the access token.
 */
export interface OAuth2Endpoints {
  provider: string;
  authorizeUrl: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: string | undefined;
  /** How the client authenticates at the token endpoint (GitHub: "post"). */
  clientAuth: "basic" | "post";
  scopes: readonly string[];
  pkce: boolean;
}

export interface OAuth2Pending {
  state: string;
  verifier?: string;
}

export interface OAuth2Tokens {
  accessToken: string;
  refreshToken?: string;
}

/** Where to send the browser, and what `complete` needs. */
export function authorizeRedirect(
  e: OAuth2Endpoints,
  callbackUrl: string,
  state: string,
): { location: string; pending: OAuth2Pending } {
  const u = new URL(e.authorizeUrl);
  u.searchParams.set("response_type", "code");
  u.searchParams.set("client_id", e.clientId);
  u.searchParams.set("redirect_uri", callbackUrl);
  if (e.scopes.length > 0) u.searchParams.set("scope", e.scopes.join(" "));
  u.searchParams.set("state", state);
  if (!e.pkce) return { location: u.href, pending: { state } };
  const verifier = randomBytes(32).toString("base64url");
  u.searchParams.set("code_challenge", createHash("sha256").update(verifier).digest("base64url"));
  u.searchParams.set("code_challenge_method", "S256");
  return { location: u.href, pending: { state, verifier } };
}

/** The code from a callback whose state matches; the provider's own error otherwise. */
export function codeFrom(provider: string, params: URLSearchParams, pending: OAuth2Pending): string {
  if (params.get("state") !== pending.state)
    throw new ProviderRefusedError(provider, "the state parameter does not match this sign-in");
  const error = params.get("error");
  if (error !== null) {
    const d = params.get("error_description");
    throw new ProviderRefusedError(
      provider,
      `the provider refused the sign-in: ${error}${d ? ` (${d})` : ""}`,
    );
  }
  const code = params.get("code");
  if (!code) throw new ProviderRefusedError(provider, "the callback carries no code");
  return code;
}

/** Exchange a code (or a refresh token) at the token endpoint. */
export async function tokenRequest(
  fetch: ProviderFetch,
  e: OAuth2Endpoints,
  grant: { code: string; redirectUri: string; verifier?: string } | { refreshToken: string },
): Promise<OAuth2Tokens> {
  const body = new URLSearchParams();
  if ("code" in grant) {
    body.set("grant_type", "authorization_code");
    body.set("code", grant.code);
    body.set("redirect_uri", grant.redirectUri);
    if (grant.verifier !== undefined) body.set("code_verifier", grant.verifier);
  } else {
    body.set("grant_type", "refresh_token");
    body.set("refresh_token", grant.refreshToken);
  }
  const headers: Record<string, string> = {
    "content-type": "application/x-www-form-urlencoded",
    accept: "application/json",
  };
  if (e.clientAuth === "basic" && e.clientSecret !== undefined) {
    const enc = (s: string): string => encodeURIComponent(s);
    headers["authorization"] =
      `Basic ${Buffer.from(`${enc(e.clientId)}:${enc(e.clientSecret)}`).toString("base64")}`;
  } else {
    body.set("client_id", e.clientId);
    if (e.clientSecret !== undefined) body.set("client_secret", e.clientSecret);
  }
  const r = await fetch(e.tokenUrl, { method: "POST", headers, body });
  const json = await jsonOf(e.provider, r, "the token endpoint");
  // GitHub answers errors with 200 and an `error` field.
  if (!r.ok || typeof json["error"] === "string")
    throw new ProviderRefusedError(
      e.provider,
      `the token endpoint refused: ${typeof json["error"] === "string" ? json["error"] : `HTTP ${r.status}`}`,
    );
  const access = json["access_token"];
  if (typeof access !== "string" || access === "")
    throw new ProviderRefusedError(e.provider, "the token endpoint returned no access_token");
  const refresh = json["refresh_token"];
  return { accessToken: access, ...(typeof refresh === "string" ? { refreshToken: refresh } : {}) };
}

/** GET a JSON API with the access token; 401/403 mean the person is no longer allowed. */
export async function getJSON(
  fetch: ProviderFetch,
  provider: string,
  url: string,
  accessToken: string,
): Promise<unknown> {
  const r = await fetch(url, {
    headers: { authorization: `Bearer ${accessToken}`, accept: "application/json" },
  });
  if (r.status === 401 || r.status === 403)
    throw new ProviderRefusedError(provider, `${new URL(url).pathname} answered ${r.status}: access refused`);
  if (r.status >= 500) throw new ProviderUnavailableError(provider, `${url} answered ${r.status}`);
  const body = await r.text();
  if (!r.ok) throw new ProviderRefusedError(provider, `${new URL(url).pathname} answered ${r.status}`);
  try {
    return JSON.parse(body) as unknown;
  } catch {
    throw new ProviderRefusedError(provider, `${url} did not answer JSON`);
  }
}

async function jsonOf(provider: string, r: Response, what: string): Promise<Record<string, unknown>> {
  if (r.status >= 500) throw new ProviderUnavailableError(provider, `${what} answered ${r.status}`);
  const text = await r.text();
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v === "object" && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new ProviderRefusedError(provider, `${what} did not answer a JSON object (HTTP ${r.status})`);
}

/** A value at a dotted path ("user.login") of a JSON object. */
export function fieldAt(obj: unknown, path: string): unknown {
  let v: unknown = obj;
  for (const part of path.split(".")) {
    if (typeof v !== "object" || v === null || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}
