import { KubeApiError, type KubeClient } from "./kube-client.js";

/** What the TokenRequest API answered. */
export interface IssuedToken {
  token: string;
  /** RFC 3339, as the API server sent it. */
  expirationTimestamp: string;
}

/**
 * Ask the TokenRequest API for a token of NAMESPACE/NAME valid for `expirationSeconds` (the API server
 * may shorten it: `--service-account-max-token-expiration`). The bootstrap calls it with the admin's
 * credential, renewal with the service account's own token.
 */
export async function requestServiceAccountToken(
  client: KubeClient,
  serviceAccount: { namespace: string; name: string },
  expirationSeconds: number,
): Promise<IssuedToken> {
  const tr = await client.postJSON<{ status?: { token?: unknown; expirationTimestamp?: unknown } }>(
    `/api/v1/namespaces/${encodeURIComponent(serviceAccount.namespace)}/serviceaccounts/${encodeURIComponent(serviceAccount.name)}/token`,
    {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      spec: { expirationSeconds },
    },
  );
  const token = tr.status?.token;
  const exp = tr.status?.expirationTimestamp;
  if (typeof token !== "string" || token === "" || typeof exp !== "string" || Number.isNaN(Date.parse(exp)))
    throw new KubeApiError("decode", "the TokenRequest answer carries no token");
  return { token, expirationTimestamp: exp };
}

/** When a token was issued and expires, in milliseconds since the epoch. */
export interface TokenTimes {
  issuedAt: number;
  expiresAt: number;
}

/**
 * `iat` and `exp` from a JWT's payload, NOT verified: Gatehouse cannot check the cluster's signature
 * and does not need to. These times only schedule the renewal; the cluster decides whether the token
 * is good. Undefined for anything that is not a JWT with numeric iat < exp.
 */
export function unverifiedTokenTimes(token: string): TokenTimes | undefined {
  const parts = token.split(".");
  if (parts.length !== 3) return undefined;
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(parts[1] as string, "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
  if (typeof claims !== "object" || claims === null) return undefined;
  const { iat, exp } = claims as { iat?: unknown; exp?: unknown };
  if (typeof iat !== "number" || typeof exp !== "number" || !(iat < exp)) return undefined;
  return { issuedAt: iat * 1000, expiresAt: exp * 1000 };
}

/** Renew once this share of the token's lifetime has passed. */
export const RENEW_AFTER_FRACTION = 2 / 3;

/** The moment renewal is due: two thirds into the lifetime. */
export function renewalDueAt(t: TokenTimes): number {
  return t.issuedAt + Math.floor((t.expiresAt - t.issuedAt) * RENEW_AFTER_FRACTION);
}
