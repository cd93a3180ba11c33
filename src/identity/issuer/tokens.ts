import { createHash, randomUUID } from "node:crypto";
import { decodeProtectedHeader, errors, jwtVerify, SignJWT, type JWTPayload } from "jose";
import type { IssuerOptions } from "./options.js";
import { SIGNING_ALG, type SigningKeys } from "./keys.js";

/** The claims of a Gatehouse access token beyond the registered ones. */
export interface AccessClaims {
  sub: string;
  uid: string;
  groups: string[];
  /** The refresh session the token belongs to: revoking it ends the token at the gateway at once. */
  sid: string;
}

export interface VerifiedAccess extends AccessClaims {
  jti: string;
  exp: number;
  nbf: number;
}

/** Why a token was refused; a closed set, so tests assert codes and logs stay bounded. */
export type TokenErrorCode =
  | "Malformed"
  | "UnsupportedAlgorithm"
  | "UnknownKey"
  | "BadSignature"
  | "Expired"
  | "NotYetValid"
  | "WrongIssuer"
  | "WrongAudience"
  | "MissingClaims";

export class TokenError extends Error {
  constructor(readonly code: TokenErrorCode) {
    super(`access token refused: ${code}`);
    this.name = "TokenError";
  }
}

/** Sign an access token with the current key. */
export async function signAccessToken(
  keys: SigningKeys,
  opts: IssuerOptions,
  claims: AccessClaims,
  now: number,
): Promise<{ token: string; expiresAt: number }> {
  const key = await keys.current();
  const iat = Math.floor(now / 1000);
  const exp = iat + Math.floor(opts.accessTokenTtlMs / 1000);
  const token = await new SignJWT({ uid: claims.uid, groups: claims.groups, sid: claims.sid })
    .setProtectedHeader({ alg: SIGNING_ALG, kid: key.kid, typ: "JWT" })
    .setIssuer(opts.issuer)
    .setSubject(claims.sub)
    .setAudience(opts.audience)
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(exp)
    .setJti(randomUUID())
    .sign(key.privateKey);
  return { token, expiresAt: exp * 1000 };
}

/**
 * Verify a Gatehouse access token: only ES256 (so "none" and HMAC tricks never reach a key), a kid
 * the issuer published, signature, iss, aud, exp and nbf (no leeway), and the claims Gatehouse needs.
 */
export async function verifyAccessToken(
  keys: SigningKeys,
  opts: IssuerOptions,
  token: string,
  now: number,
): Promise<VerifiedAccess> {
  let header;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw new TokenError("Malformed");
  }
  if (header.alg !== SIGNING_ALG) throw new TokenError("UnsupportedAlgorithm");
  if (typeof header.kid !== "string") throw new TokenError("UnknownKey");
  const key = await keys.find(header.kid);
  if (!key) throw new TokenError("UnknownKey");
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, key.publicKey, {
      algorithms: [SIGNING_ALG],
      issuer: opts.issuer,
      audience: opts.audience,
      currentDate: new Date(now),
      requiredClaims: ["exp", "iat", "nbf", "jti", "sub"],
    }));
  } catch (e) {
    throw new TokenError(codeOf(e));
  }
  const { sub, uid, groups, sid, jti, exp, nbf } = payload;
  if (
    typeof sub !== "string" ||
    typeof uid !== "string" ||
    typeof sid !== "string" ||
    typeof jti !== "string" ||
    typeof exp !== "number" ||
    typeof nbf !== "number" ||
    !Array.isArray(groups) ||
    !groups.every((g) => typeof g === "string")
  )
    throw new TokenError("MissingClaims");
  return { sub, uid, sid, jti, exp, nbf, groups: groups as string[] };
}

/**
 * Tokens whose signature and claims were verified, keyed by the SHA-256 of the whole token, so a
 * client sending the same token again (kubectl does, for its lifetime) costs a hash, not a signature
 * check. Time bounds are checked on every use; any other token, tampered ones included, hashes
 * differently and is verified in full.
 */
export class VerifiedTokens {
  private readonly entries = new Map<string, VerifiedAccess>();

  constructor(private readonly max = 10_000) {}

  async verify(keys: SigningKeys, opts: IssuerOptions, token: string, now: number): Promise<VerifiedAccess> {
    const key = createHash("sha256").update(token).digest("base64url");
    const hit = this.entries.get(key);
    if (hit) {
      if (hit.exp * 1000 <= now) throw new TokenError("Expired");
      if (hit.nbf * 1000 > now) throw new TokenError("NotYetValid");
      return hit;
    }
    const claims = await verifyAccessToken(keys, opts, token, now);
    if (this.entries.size >= this.max) this.entries.clear();
    this.entries.set(key, claims);
    return claims;
  }
}

function codeOf(e: unknown): TokenErrorCode {
  if (e instanceof errors.JWTExpired) return "Expired";
  if (e instanceof errors.JWTClaimValidationFailed) {
    switch (e.claim) {
      case "iss":
        return "WrongIssuer";
      case "aud":
        return "WrongAudience";
      case "nbf":
      case "iat":
        return "NotYetValid";
      default:
        return "MissingClaims";
    }
  }
  if (e instanceof errors.JWSSignatureVerificationFailed) return "BadSignature";
  if (e instanceof errors.JOSEAlgNotAllowed) return "UnsupportedAlgorithm";
  return "Malformed";
}

/** Whether a bearer token looks like a JWT at all (three base64url parts), so other authenticators may try. */
export function looksLikeJwt(token: string): boolean {
  return /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/.test(token);
}
