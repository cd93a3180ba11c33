/** How the issuer's tokens and keys live. Defaults are the safe ones; all durations in milliseconds. */
export interface IssuerOptions {
  /** The `iss` of every token and the base of the discovery document; Gatehouse's own https URL by default. */
  issuer: string;
  /** The `aud` of access tokens; a cluster in direct mode lists it in its JWT authenticator. */
  audience: string;
  accessTokenTtlMs: number;
  /** A refresh token unused for this long no longer works (idle timeout). */
  refreshIdleTtlMs: number;
  /** A session ends this long after sign-in, however active (absolute timeout). */
  sessionAbsoluteTtlMs: number;
  /** A new signing key is made this often; the previous one still verifies for one access-token lifetime. */
  keyRotationMs: number;
  /** How long the gateway may trust a "session is live" answer before asking the store again. */
  sessionCacheMs: number;
}

export const ISSUER_DEFAULTS = {
  audience: "gatehouse",
  accessTokenTtlMs: 15 * 60_000,
  refreshIdleTtlMs: 24 * 3600_000,
  sessionAbsoluteTtlMs: 7 * 24 * 3600_000,
  keyRotationMs: 24 * 3600_000,
  sessionCacheMs: 2_000,
} as const;

export function issuerOptions(issuer: string, overrides: Partial<IssuerOptions> = {}): IssuerOptions {
  return { ...ISSUER_DEFAULTS, ...overrides, issuer: issuer.replace(/\/+$/, "") };
}
