import type { Authenticator } from "../authenticator.js";
import type { SessionService } from "../sessions.js";
import type { IssuerOptions } from "./options.js";
import type { SigningKeys } from "./keys.js";
import { looksLikeJwt, TokenError, type VerifiedTokens } from "./tokens.js";

/**
 * Bearer authentication with Gatehouse-issued access tokens. A token that looks like a JWT is ours to
 * judge: a bad one is rejected (never handed to another authenticator). A good signature is not
 * enough: the session must still be live and its user enabled, so logout, revocation and disabling a
 * user end the token at the gateway before it expires.
 */
export function issuedTokenAuthenticator(deps: IssuedTokenDeps): Authenticator {
  return {
    async authenticate(headers) {
      const h = headers.authorization;
      if (h === undefined || !/^bearer /i.test(h)) return { kind: "none" };
      const token = h.slice(7).trim();
      if (!looksLikeJwt(token)) return { kind: "none" };
      const r = await verifyIssuedToken(deps, token);
      if (r.kind === "rejected") return r;
      return { kind: "authenticated", method: "token", user: r.user };
    },
  };
}

export type TokenVerdict =
  | { kind: "rejected"; reason: string }
  | {
      kind: "valid";
      user: { username: string; uid: string; groups: string[]; extra: Record<string, string[]> };
      exp: number;
    };

/** Verify an access token and the liveness of its session; shared by the gateway and TokenReview. */
export interface IssuedTokenDeps {
  keys: SigningKeys;
  sessions: SessionService;
  opts: IssuerOptions;
  verified: VerifiedTokens;
  now: () => number;
}

export async function verifyIssuedToken(deps: IssuedTokenDeps, token: string): Promise<TokenVerdict> {
  let claims;
  try {
    claims = await deps.verified.verify(deps.keys, deps.opts, token, deps.now());
  } catch (e) {
    if (e instanceof TokenError) return { kind: "rejected", reason: `access token: ${e.code}` };
    throw e;
  }
  const user = await deps.sessions.liveUser(claims.sid, claims.sub);
  if (!user) return { kind: "rejected", reason: "access token: session ended or user disabled" };
  return {
    kind: "valid",
    exp: claims.exp,
    user: {
      username: user.name,
      uid: user.uid,
      groups: [...user.groups, "system:authenticated"],
      extra: { "gatehouse.io/session": [claims.sid] },
    },
  };
}
