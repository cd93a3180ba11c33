/**
 * The contract between Gatehouse's sign-in flows and the identity providers behind them. Each
 * provider kind (OIDC, OAuth2/GitHub, LDAP, SAML) implements one of the two shapes below in its own
 * folder; `registry.ts` builds them from `IdentityProvider` objects and the sign-in routes use them
 * only through these interfaces.
 */

/** Who an upstream provider says signed in, already mapped (prefixes applied) to Gatehouse names. */
export interface ExternalIdentity {
  /** The IdentityProvider object's name. */
  provider: string;
  /** The provider's stable subject (OIDC `sub`, LDAP DN, SAML NameID): never shown as the username. */
  subject: string;
  /** The Gatehouse username (claim or attribute, with the provider's username prefix). */
  username: string;
  /** Groups with the provider's groups prefix; sorted, without duplicates. */
  groups: string[];
  email?: string;
  /**
   * What the provider needs to re-check this person at the next session refresh (an upstream refresh
   * token, say). Sealed by the caller before it is stored; never logged.
   */
  recheckState?: string;
}

/** A problem with a provider's configuration or reachability, as `gatehouse idp test` prints it. */
export interface ProviderCheck {
  /** Short name of what was checked: "discovery", "service bind", "metadata"... */
  step: string;
  ok: boolean;
  /** What was found, or what is wrong and what to do about it. */
  message: string;
}

/** The result of re-checking a signed-in person upstream when their Gatehouse session is refreshed. */
export type Recheck =
  | { kind: "ok"; identity: ExternalIdentity }
  /** Removed, disabled or refused upstream: the session ends. */
  | { kind: "gone"; reason: string }
  /** The provider could not be reached: the session continues until it expires on its own. */
  | { kind: "unavailable"; reason: string };

interface ProviderBase {
  readonly name: string;
  readonly type: "oidc" | "oauth2" | "github" | "ldap" | "saml";
  /** Shown on the sign-in page. */
  readonly displayName: string;
  /** Every check `gatehouse idp test NAME` runs, in order; never throws. */
  test(signal: AbortSignal): Promise<ProviderCheck[]>;
  /** Re-check a person at session refresh, if the provider can. */
  recheck?(identity: ExternalIdentity, signal: AbortSignal): Promise<Recheck>;
  close?(): Promise<void>;
}

/** A provider that checks a username and password itself (LDAP, Active Directory). */
export interface PasswordProvider extends ProviderBase {
  readonly flow: "password";
  /**
   * The identity for these credentials, or `undefined` when they are wrong (the caller throttles and
   * answers with one message whether or not the user exists). Throws `ProviderUnavailableError` when
   * the provider cannot be reached within its timeout.
   */
  authenticate(
    username: string,
    password: string,
    signal: AbortSignal,
  ): Promise<ExternalIdentity | undefined>;
}

/** Where to send the browser, and what to remember (server-side) until it comes back. */
export interface RedirectStart {
  /** The URL of the upstream provider's sign-in page. */
  location: string;
  /** Opaque state the provider needs at `complete` (PKCE verifier, nonce, SAML request ID...). */
  pending: string;
}

/** A provider that signs people in on its own pages (OIDC, OAuth2, GitHub, SAML). */
export interface RedirectProvider extends ProviderBase {
  readonly flow: "redirect";
  /**
   * Start a sign-in. `callbackUrl` is Gatehouse's callback for this provider; `state` is the value the
   * provider must carry through (OAuth `state`, SAML `RelayState`).
   */
  begin(callbackUrl: string, state: string, signal: AbortSignal): Promise<RedirectStart>;
  /**
   * Finish a sign-in from the callback's parameters (query for OAuth; form fields for SAML POST
   * binding). Throws `ProviderRefusedError` for anything that must not sign someone in.
   */
  complete(
    callbackUrl: string,
    params: URLSearchParams,
    pending: string,
    signal: AbortSignal,
  ): Promise<ExternalIdentity>;
}

export type IdentityProvider = PasswordProvider | RedirectProvider;

/** The upstream provider did not answer in time or at all: "try again later", not "wrong password". */
export class ProviderUnavailableError extends Error {
  constructor(
    readonly provider: string,
    message: string,
  ) {
    super(message);
    this.name = "ProviderUnavailableError";
  }
}

/** The upstream answer must not sign anyone in (bad signature, wrong audience, replay...). */
export class ProviderRefusedError extends Error {
  constructor(
    readonly provider: string,
    message: string,
  ) {
    super(message);
    this.name = "ProviderRefusedError";
  }
}

/** The settings every provider kind shares (from `spec` of its IdentityProvider object). */
export interface ProviderCommon {
  name: string;
  displayName: string;
  /** Prepended to the username, as kube-apiserver's `--oidc-username-prefix`. */
  usernamePrefix: string;
  /**
   * True when `spec.usernamePrefix` was not set, so a kind may apply its own default (OIDC: the
   * issuer URL and "#" unless the username claim is `email`, as kube-apiserver does).
   */
  usernamePrefixDefaulted?: boolean;
  /** Prepended to every group, as kube-apiserver's `--oidc-groups-prefix`. */
  groupsPrefix: string;
  /** How long any one call to the provider may take before sign-in fails as unavailable. */
  timeoutMs: number;
}

/**
 * One provider kind: how `spec.<type>` of an IdentityProvider object is checked, which of its fields
 * are secrets (sealed at rest with the key ring, never served back), and how a provider is built.
 */
export interface ProviderFactory {
  readonly type: IdentityProvider["type"];
  /** Every problem with `spec.<type>`, as "spec.<type>.field: what is wrong"; empty when valid. */
  validate(section: Record<string, unknown>): string[];
  /** Top-level field names of `spec.<type>` that hold secrets (client secret, bind password). */
  readonly secretFields: readonly string[];
  /** Build the provider; `section` has its secrets opened. Network work happens later, not here. */
  create(common: ProviderCommon, section: Record<string, unknown>): IdentityProvider;
}
