import type { KeyRing } from "../../secrets/index.js";
import type { Store } from "../../store/index.js";
import type { Authenticator } from "../authenticator.js";
import { SessionService } from "../sessions.js";
import { issuedTokenAuthenticator, verifyIssuedToken, type TokenVerdict } from "./authenticator.js";
import { SigningKeys, SIGNING_ALG } from "./keys.js";
import type { IssuerOptions } from "./options.js";
import { identityRepositories } from "./repositories.js";
import { VerifiedTokens } from "./tokens.js";

export { issuerOptions, ISSUER_DEFAULTS, type IssuerOptions } from "./options.js";
export { TokenError, type TokenErrorCode, looksLikeJwt } from "./tokens.js";
export type { TokenVerdict } from "./authenticator.js";

/** Gatehouse as an OpenID-style token issuer: keys, sessions, the discovery documents, the authenticator. */
export interface Issuer {
  readonly opts: IssuerOptions;
  readonly keys: SigningKeys;
  readonly sessions: SessionService;
  readonly authenticator: Authenticator;
  discovery(): Record<string, unknown>;
  jwks(): Promise<{ keys: Record<string, unknown>[] }>;
  verify(token: string): Promise<TokenVerdict>;
  /** Set the issuer URL when none was configured: the server's own URL, known once it listens. */
  useUrlIfUnset(url: string): void;
}

export const JWKS_PATH = "/openid/v1/jwks";
export const DISCOVERY_PATH = "/.well-known/openid-configuration";

export function createIssuer(store: Store, keyRing: KeyRing, opts: IssuerOptions, now: () => number): Issuer {
  const repos = identityRepositories(store);
  const keys = new SigningKeys(
    repos.keys,
    keyRing,
    { rotationMs: opts.keyRotationMs, verifyGraceMs: opts.accessTokenTtlMs + 60_000, reloadMs: 60_000 },
    now,
  );
  const sessions = new SessionService(store, repos.sessions, keys, opts, now);
  const deps = { keys, sessions, opts, verified: new VerifiedTokens(), now };
  return {
    opts,
    keys,
    sessions,
    authenticator: issuedTokenAuthenticator(deps),
    verify: (token) => verifyIssuedToken(deps, token),
    useUrlIfUnset: (url) => {
      if (opts.issuer === "") opts.issuer = url.replace(/\/+$/, "");
    },
    // The fields Kubernetes' JWT authenticator and OIDC clients read (OpenID Connect Discovery 1.0 §3).
    discovery: () => ({
      issuer: opts.issuer,
      jwks_uri: `${opts.issuer}${JWKS_PATH}`,
      response_types_supported: ["id_token"],
      subject_types_supported: ["public"],
      id_token_signing_alg_values_supported: [SIGNING_ALG],
      claims_supported: ["iss", "sub", "aud", "exp", "iat", "nbf", "jti", "uid", "groups", "sid"],
    }),
    jwks: async () => {
      await keys.current();
      return { keys: (await keys.keys()).map((k) => ({ ...k.publicJwk })) };
    },
  };
}
