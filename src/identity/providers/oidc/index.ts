import * as oidc from "openid-client";
import { SectionChecker, caBundleOf, identityOf, stringsOf } from "../common.js";
import { isUnavailable, providerFetch, rootMessage, withSignal } from "../http.js";
import {
  ProviderRefusedError,
  ProviderUnavailableError,
  type ExternalIdentity,
  type ProviderCheck,
  type ProviderCommon,
  type ProviderFactory,
  type Recheck,
  type RedirectProvider,
  type RedirectStart,
} from "../types.js";

/** `spec.oidc` of an IdentityProvider object. */
export interface OidcSettings {
  /** The issuer URL; `/.well-known/openid-configuration` is read from it. */
  issuer: string;
  clientId: string;
  /** Absent: a public client (PKCE only, no client authentication). */
  clientSecret?: string;
  scopes: string[];
  usernameClaim: string;
  groupsClaim: string;
  /** Also read groups from the userinfo endpoint (some providers leave them out of the ID token). */
  userinfo: boolean;
  /** The algorithm ID tokens must be signed with (default RS256, as OpenID Connect's default). */
  idTokenSigningAlg: string;
}

const FIELDS = [
  "issuer",
  "clientId",
  "clientSecret",
  "scopes",
  "usernameClaim",
  "groupsClaim",
  "userinfo",
  "idTokenSigningAlg",
  "caData",
  "caFile",
] as const;

/** Asymmetric JWS algorithms only: an HMAC "signature" would be made with the client secret. */
const ID_TOKEN_ALGS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
] as const;

export function validateOidc(s: Record<string, unknown>): string[] {
  const c = new SectionChecker("oidc", s, FIELDS);
  c.url("issuer", true);
  c.string("clientId", true);
  c.string("clientSecret", false);
  c.strings("scopes");
  if (Array.isArray(s["scopes"]) && !s["scopes"].includes("openid"))
    c.problems.push('spec.oidc.scopes: must include "openid"');
  c.string("usernameClaim", false);
  c.string("groupsClaim", false);
  c.boolean("userinfo");
  const alg = s["idTokenSigningAlg"];
  if (alg !== undefined && !(ID_TOKEN_ALGS as readonly unknown[]).includes(alg))
    c.problems.push(`spec.oidc.idTokenSigningAlg: must be one of ${ID_TOKEN_ALGS.join(", ")}`);
  c.caData("caData");
  c.string("caFile", false);
  if (s["caData"] !== undefined && s["caFile"] !== undefined)
    c.problems.push("spec.oidc.caFile: give caData or caFile, not both");
  return c.problems;
}

/**
 * The username prefix, as kube-apiserver's `--oidc-username-prefix`: unset, it is the issuer URL and
 * "#" unless the username claim is `email`; "-" turns prefixing off.
 */
export function oidcUsernamePrefix(common: ProviderCommon, issuer: string, usernameClaim: string): string {
  if (common.usernamePrefixDefaulted) return usernameClaim === "email" ? "" : `${issuer}#`;
  return common.usernamePrefix;
}

interface Pending {
  state: string;
  verifier: string;
  nonce: string;
}

interface RecheckState {
  refreshToken: string;
}

/** OpenID Connect with openid-client: discovery, code flow with PKCE, state and nonce checked. */
export class OidcProvider implements RedirectProvider {
  readonly flow = "redirect";
  readonly type = "oidc";
  readonly name: string;
  readonly displayName: string;
  private readonly prefix: string;
  private readonly fetch: ReturnType<typeof providerFetch> | undefined;
  private readonly caProblem: string | undefined;
  private config: Promise<oidc.Configuration> | undefined;

  constructor(
    private readonly common: ProviderCommon,
    private readonly s: OidcSettings & { caFile?: string },
    caSection: Record<string, unknown>,
  ) {
    this.name = common.name;
    this.displayName = common.displayName;
    this.prefix = oidcUsernamePrefix(common, s.issuer, s.usernameClaim);
    let ca: string | undefined;
    try {
      ca = caBundleOf(caSection);
    } catch (e) {
      this.caProblem = `cannot read spec.oidc.caFile: ${(e as NodeJS.ErrnoException).code ?? rootMessage(e)}`;
    }
    this.fetch = this.caProblem ? undefined : providerFetch(common.name, ca, common.timeoutMs);
  }

  /**
   * The provider's configuration from discovery. `fresh` reads the discovery document again (every
   * sign-in starts so: a provider that is down is reported on Gatehouse's page, within the timeout,
   * instead of as a browser error on the provider's); the known configuration, with openid-client's
   * JWKS cache, is kept while the document is unchanged. A failure is never cached.
   */
  private async configuration(fresh = false): Promise<oidc.Configuration> {
    if (this.caProblem || !this.fetch)
      throw new ProviderUnavailableError(this.name, this.caProblem ?? "no CA");
    const known = this.config ? await this.config.catch(() => undefined) : undefined;
    if (known && !fresh) return known;
    const f = this.fetch;
    const seconds = Math.ceil(this.common.timeoutMs / 1000);
    const next = oidc
      .discovery(
        new URL(this.s.issuer),
        this.s.clientId,
        {
          id_token_signed_response_alg: this.s.idTokenSigningAlg,
          ...(this.s.clientSecret === undefined ? { token_endpoint_auth_method: "none" } : {}),
        },
        this.s.clientSecret === undefined ? oidc.None() : oidc.ClientSecretBasic(this.s.clientSecret),
        {
          [oidc.customFetch]: f as unknown as oidc.CustomFetch,
          timeout: seconds,
          // ID tokens come straight from the token endpoint over TLS, where OIDC Core §3.1.3.7 lets
          // a client skip the signature: Gatehouse checks it against the JWKS anyway, so neither a
          // mis-issued TLS certificate nor a token endpoint answering for someone else suffices.
          execute: [oidc.enableNonRepudiationChecks],
        },
      )
      .then((c) => {
        c.timeout = seconds;
        if (known && JSON.stringify(known.serverMetadata()) === JSON.stringify(c.serverMetadata()))
          return known;
        return c;
      })
      .catch((e: unknown) => {
        throw isUnavailable(e)
          ? new ProviderUnavailableError(this.name, `discovery at ${this.s.issuer}: ${rootMessage(e)}`)
          : new ProviderUnavailableError(
              this.name,
              `discovery at ${this.s.issuer} failed: ${rootMessage(e)} (check spec.oidc.issuer)`,
            );
      });
    this.config = next;
    next.catch(() => {
      if (this.config === next) this.config = known ? Promise.resolve(known) : undefined;
    });
    return next;
  }

  async begin(callbackUrl: string, state: string, signal: AbortSignal): Promise<RedirectStart> {
    const config = await withSignal(signal, () => this.configuration(true));
    const verifier = oidc.randomPKCECodeVerifier();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: callbackUrl,
      response_type: "code",
      scope: this.s.scopes.join(" "),
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      state,
      nonce,
    });
    const pending: Pending = { state, verifier, nonce };
    return { location: url.href, pending: JSON.stringify(pending) };
  }

  async complete(
    callbackUrl: string,
    params: URLSearchParams,
    pendingText: string,
    signal: AbortSignal,
  ): Promise<ExternalIdentity> {
    const pending = JSON.parse(pendingText) as Pending;
    const config = await withSignal(signal, () => this.configuration());
    const current = new URL(callbackUrl);
    current.search = params.toString();
    let tokens;
    try {
      tokens = await withSignal(signal, () =>
        oidc.authorizationCodeGrant(config, current, {
          pkceCodeVerifier: pending.verifier,
          expectedState: pending.state,
          expectedNonce: pending.nonce,
          idTokenExpected: true,
        }),
      );
    } catch (e) {
      throw this.mapError(e, "the sign-in");
    }
    const claims = tokens.claims();
    if (!claims) throw new ProviderRefusedError(this.name, "the provider returned no ID token");
    const extra = await this.userinfoGroups(config, tokens.access_token, claims.sub, signal);
    const recheck: RecheckState | undefined = tokens.refresh_token
      ? { refreshToken: tokens.refresh_token }
      : undefined;
    return this.identity(claims, extra, recheck);
  }

  async recheck(identity: ExternalIdentity, signal: AbortSignal): Promise<Recheck> {
    if (identity.recheckState === undefined) return { kind: "ok", identity };
    const state = JSON.parse(identity.recheckState) as RecheckState;
    try {
      const config = await withSignal(signal, () => this.configuration());
      const tokens = await withSignal(signal, () => oidc.refreshTokenGrant(config, state.refreshToken));
      const next: RecheckState = { refreshToken: tokens.refresh_token ?? state.refreshToken };
      const claims = tokens.claims();
      if (claims && claims.sub !== identity.subject)
        return { kind: "gone", reason: "the provider answered for another subject" };
      if (!claims && !this.s.userinfo)
        return { kind: "ok", identity: { ...identity, recheckState: JSON.stringify(next) } };
      const extra = await this.userinfoGroups(config, tokens.access_token, identity.subject, signal);
      const base = claims ?? { sub: identity.subject };
      const fresh = this.identity(base, extra, next, identity);
      return { kind: "ok", identity: fresh };
    } catch (e) {
      if (isUnavailable(e) || e instanceof ProviderUnavailableError)
        return { kind: "unavailable", reason: rootMessage(e) };
      return { kind: "gone", reason: rootMessage(e) };
    }
  }

  async test(signal: AbortSignal): Promise<ProviderCheck[]> {
    const checks: ProviderCheck[] = [];
    if (this.caProblem) return [{ step: "CA bundle", ok: false, message: this.caProblem }];
    let config: oidc.Configuration;
    try {
      config = await withSignal(signal, () => this.configuration(true));
      checks.push({ step: "discovery", ok: true, message: `issuer ${config.serverMetadata().issuer}` });
    } catch (e) {
      checks.push({ step: "discovery", ok: false, message: rootMessage(e) });
      return checks;
    }
    const m = config.serverMetadata();
    const methods = m.code_challenge_methods_supported;
    const codeOk = (m.response_types_supported ?? ["code"]).includes("code");
    checks.push({
      step: "authorization code with PKCE",
      ok: codeOk && (methods === undefined || methods.includes("S256")),
      message:
        codeOk && (methods === undefined || methods.includes("S256"))
          ? "response_type code and PKCE S256 supported"
          : "the provider does not offer response_type code with PKCE S256: Gatehouse needs both",
    });
    try {
      if (!m.jwks_uri) throw new Error("the discovery document has no jwks_uri");
      const r = await withSignal(signal, () =>
        (this.fetch as NonNullable<typeof this.fetch>)(m.jwks_uri as string),
      );
      const body = (await r.json()) as { keys?: unknown[] };
      if (!r.ok || !Array.isArray(body.keys) || body.keys.length === 0)
        throw new Error(`${m.jwks_uri} answered ${r.status} without signing keys`);
      checks.push({ step: "signing keys", ok: true, message: `${body.keys.length} key(s) at ${m.jwks_uri}` });
    } catch (e) {
      checks.push({ step: "signing keys", ok: false, message: rootMessage(e) });
    }
    if (this.s.userinfo && !m.userinfo_endpoint)
      checks.push({
        step: "userinfo",
        ok: false,
        message: "spec.oidc.userinfo is true but the provider has no userinfo endpoint: set it to false",
      });
    return checks;
  }

  private async userinfoGroups(
    config: oidc.Configuration,
    accessToken: string,
    sub: string,
    signal: AbortSignal,
  ): Promise<string[] | undefined> {
    if (!this.s.userinfo) return undefined;
    try {
      const info = await withSignal(signal, () => oidc.fetchUserInfo(config, accessToken, sub));
      return stringsOf(info[this.s.groupsClaim]);
    } catch (e) {
      throw this.mapError(e, "reading userinfo");
    }
  }

  private identity(
    claims: Record<string, unknown>,
    userinfoGroups: string[] | undefined,
    recheck: RecheckState | undefined,
    previous?: ExternalIdentity,
  ): ExternalIdentity {
    const sub = String(claims["sub"] ?? "");
    const raw = claims[this.s.usernameClaim];
    if (this.s.usernameClaim === "email" && claims["email_verified"] === false)
      throw new ProviderRefusedError(this.name, "the email address is not verified by the provider");
    if (previous && raw === undefined)
      return { ...previous, ...(recheck ? { recheckState: JSON.stringify(recheck) } : {}) };
    if (typeof raw !== "string" || raw === "")
      throw new ProviderRefusedError(this.name, `the ID token has no ${this.s.usernameClaim} claim`);
    const groups = [...stringsOf(claims[this.s.groupsClaim]), ...(userinfoGroups ?? [])];
    const email = typeof claims["email"] === "string" ? claims["email"] : undefined;
    const id = identityOf(this.common, this.prefix, sub, raw, groups, {
      ...(email !== undefined ? { email } : {}),
      ...(recheck ? { recheckState: JSON.stringify(recheck) } : {}),
    });
    if (!id) throw new ProviderRefusedError(this.name, "the ID token has no subject");
    return id;
  }

  private mapError(e: unknown, what: string): Error {
    if (e instanceof ProviderUnavailableError || e instanceof ProviderRefusedError) return e;
    if (isUnavailable(e)) return new ProviderUnavailableError(this.name, `${what}: ${rootMessage(e)}`);
    if (e instanceof oidc.AuthorizationResponseError)
      return new ProviderRefusedError(
        this.name,
        `the provider refused ${what}: ${e.error}${e.error_description ? ` (${e.error_description})` : ""}`,
      );
    if (e instanceof oidc.ResponseBodyError)
      return new ProviderRefusedError(this.name, `the provider refused ${what}: ${e.error}`);
    return new ProviderRefusedError(this.name, `${what} failed: ${rootMessage(e)}`);
  }
}

export const oidcFactory: ProviderFactory = {
  type: "oidc",
  secretFields: ["clientSecret"],
  validate: validateOidc,
  create(common, s) {
    const settings: OidcSettings = {
      issuer: s["issuer"] as string,
      clientId: s["clientId"] as string,
      ...(typeof s["clientSecret"] === "string" ? { clientSecret: s["clientSecret"] } : {}),
      scopes: (s["scopes"] as string[] | undefined) ?? ["openid", "profile", "email"],
      usernameClaim: (s["usernameClaim"] as string | undefined) ?? "sub",
      groupsClaim: (s["groupsClaim"] as string | undefined) ?? "groups",
      userinfo: s["userinfo"] === true,
      idTokenSigningAlg: (s["idTokenSigningAlg"] as string | undefined) ?? "RS256",
    };
    return new OidcProvider(common, settings, s);
  },
};
