import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Store, UserRecord } from "../store/index.js";
import { StoreError } from "../store/index.js";

/** Stored as gatehouse objects named by the code's SHA-256, so any replica can redeem it. */
export const AUTH_CODE_KIND = "AuthorizationCode";
export const AUTH_CODE_GRANT_TYPE = "authorization_code";
const LIFETIME_MS = 60_000;

/**
 * The one client Gatehouse knows for the code flow: its own CLI, a public client (RFC 8252) that
 * receives the code on a loopback redirect. PKCE with S256 is required; "plain" is refused.
 */
export const CLI_CLIENT_ID = "gatehouse-cli";

/**
 * A loopback redirect URI as RFC 8252 §7.3 describes: http, the literal 127.0.0.1 or [::1]
 * (any port), no credentials, query or fragment. "localhost" is refused (§8.3: it may resolve elsewhere).
 */
export function isLoopbackRedirect(uri: string): boolean {
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return false;
  }
  return (
    u.protocol === "http:" &&
    (u.hostname === "127.0.0.1" || u.hostname === "[::1]") &&
    u.port !== "" &&
    u.username === "" &&
    u.password === "" &&
    u.search === "" &&
    u.hash === ""
  );
}

const sha256 = (s: string): Buffer => createHash("sha256").update(s).digest();

/** RFC 7636: code_challenge = BASE64URL(SHA256(code_verifier)); a verifier is 43–128 unreserved characters. */
export function pkceChallenge(verifier: string): string {
  return sha256(verifier).toString("base64url");
}

export type RedeemResult =
  | { kind: "ok"; user: UserRecord; client: string; provider: string; sealedIdentity?: string }
  | { kind: "invalid_grant" };

interface Body extends Record<string, unknown> {
  user: string;
  challenge: string;
  redirectUri: string;
  client: string;
  expiresAt: number;
  /** Who vouched for the person: "local", or the IdentityProvider's name. */
  provider?: string;
  /** When an identity provider signed the person in: its identity, sealed (see SessionService.start). */
  sealedIdentity?: string;
}

/** Authorization codes: single use, one minute, bound to the PKCE challenge and the redirect URI. */
export class AuthorizationCodes {
  private lastPurge = 0;

  constructor(
    private readonly store: Store,
    private readonly now: () => number,
  ) {}

  async issue(
    user: string,
    challenge: string,
    redirectUri: string,
    client: string,
    upstream?: { provider: string; sealedIdentity?: string },
  ): Promise<string> {
    const code = randomBytes(32).toString("base64url");
    const t = this.now();
    await this.purgeExpired(t);
    const body: Body = {
      user,
      challenge,
      redirectUri,
      client: client.slice(0, 200),
      expiresAt: t + LIFETIME_MS,
      ...(upstream !== undefined ? upstream : {}),
    };
    await this.store.objects.create(this.key(code), randomBytes(16).toString("hex"), body, t);
    return code;
  }

  /** Redeem a code once; any mismatch (verifier, redirect URI, expiry) burns it. */
  async redeem(code: string, verifier: string, redirectUri: string): Promise<RedeemResult> {
    const key = this.key(code);
    let row;
    try {
      row = await this.store.objects.delete(key);
    } catch (e) {
      if (e instanceof StoreError && e.code === "NotFound") return { kind: "invalid_grant" };
      throw e;
    }
    const b = row.body as Body;
    const expected = Buffer.from(b.challenge);
    const given = Buffer.from(pkceChallenge(verifier));
    if (
      !/^[A-Za-z0-9\-._~]{43,128}$/.test(verifier) ||
      expected.length !== given.length ||
      !timingSafeEqual(expected, given) ||
      b.redirectUri !== redirectUri ||
      b.expiresAt <= this.now()
    )
      return { kind: "invalid_grant" };
    const user = await this.store.users.get(b.user);
    if (!user || user.disabled) return { kind: "invalid_grant" };
    return {
      kind: "ok",
      user,
      client: b.client,
      provider: b.provider ?? "local",
      ...(b.sealedIdentity !== undefined ? { sealedIdentity: b.sealedIdentity } : {}),
    };
  }

  /** Delete codes never redeemed, at most hourly per replica. */
  private async purgeExpired(t: number): Promise<void> {
    if (this.lastPurge + 3_600_000 > t) return;
    this.lastPurge = t;
    let cont: string | undefined;
    do {
      const page = await this.store.objects.list(AUTH_CODE_KIND, {
        limit: 500,
        ...(cont ? { continue: cont } : {}),
      });
      for (const o of page.items)
        if ((o.body as Body).expiresAt <= t)
          await this.store.objects
            .delete({ kind: AUTH_CODE_KIND, namespace: "", name: o.name })
            .catch(() => undefined);
      cont = page.continue;
    } while (cont);
  }

  private key(code: string): { kind: string; namespace: string; name: string } {
    return { kind: AUTH_CODE_KIND, namespace: "", name: sha256(code).toString("hex") };
  }
}
