import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { Store, UserRecord } from "../store/index.js";
import type { IssuerOptions } from "./issuer/options.js";
import type { SessionRepository, SessionRow } from "./issuer/repositories.js";
import type { SigningKeys } from "./issuer/keys.js";
import { signAccessToken } from "./issuer/tokens.js";
import { CREDENTIAL_CACHE_DEFAULTS, CredentialCache } from "./credential-cache.js";

const REFRESH_PREFIX = "ghr.";

/** What a sign-in or a refresh hands the client. The refresh token is shown here only. */
export interface TokenSet {
  accessToken: string;
  /** Milliseconds since the epoch. */
  accessTokenExpiresAt: number;
  refreshToken: string;
  sessionId: string;
  /** The user the session belongs to (a device-code client learns it here). */
  user: string;
}

export type RefreshErrorCode = "Invalid" | "Reused" | "Expired" | "Revoked" | "UserDisabled";

/** A session that a refused refresh ended (for the audit log: `token.revoked`). */
export interface EndedSession {
  sessionId: string;
  user: string;
  reason: string;
}

export class RefreshError extends Error {
  constructor(
    readonly code: RefreshErrorCode,
    /** Set when refusing also revoked a session (reuse detected, the identity provider said gone). */
    readonly ended?: EndedSession,
  ) {
    super(`refresh refused: ${code}`);
    this.name = "RefreshError";
  }
}

const sha256 = (s: string): string => createHash("sha256").update(s).digest("hex");

/**
 * The identity provider behind sessions (src/identity/providers/upstream.ts): told which provider
 * signed a session in, and asked at each refresh whether the person may go on (and with which groups).
 */
export interface SessionUpstream {
  attach(sessionId: string, sealedIdentity: string): Promise<void>;
  recheck(
    sessionId: string,
    user: UserRecord,
  ): Promise<{ kind: "ok"; user: UserRecord } | { kind: "gone"; reason: string }>;
}
const newRefreshToken = (): string => REFRESH_PREFIX + randomBytes(32).toString("base64url");

/**
 * Refresh sessions. Each sign-in is its own session (a laptop and a CI runner do not log each other
 * out). Refresh tokens are opaque, stored as SHA-256, and rotate on every use; presenting an already
 * exchanged token means it was copied, so the whole session is revoked (RFC 9700 §4.14.2).
 * Revocation is seen by the gateway at once on this replica and within `sessionCacheMs` on others.
 */
export class SessionService {
  private readonly liveCache = new Map<
    string,
    { until: number; live: boolean; expiresAt: number; user: string }
  >();
  private lastPurge = 0;
  private upstream: SessionUpstream | undefined;

  constructor(
    private readonly store: Store,
    private readonly repo: SessionRepository,
    private readonly keys: SigningKeys,
    private readonly opts: IssuerOptions,
    private readonly now: () => number,
  ) {}

  /** Set once at start, when the identity providers are known. */
  useUpstream(u: SessionUpstream): void {
    this.upstream = u;
  }

  /**
   * Start a session for a user who has just proven who they are; `sealedIdentity` when an identity
   * provider vouched for them (re-checked there at every refresh).
   */
  async start(user: UserRecord, client: string, sealedIdentity?: string): Promise<TokenSet> {
    const t = this.now();
    const refreshToken = newRefreshToken();
    const row: SessionRow = {
      id: randomUUID(),
      user: user.name,
      client: client.slice(0, 200),
      createdAt: t,
      lastUsedAt: t,
      expiresAt: t + this.opts.sessionAbsoluteTtlMs,
      revokedAt: null,
      revokedReason: null,
    };
    await this.repo.create(row, sha256(refreshToken));
    if (sealedIdentity !== undefined) {
      if (!this.upstream) throw new Error("a provider sign-in needs the identity providers wired in");
      await this.upstream.attach(row.id, sealedIdentity);
    }
    await this.purgeHourly(t);
    return this.tokens(user, row.id, refreshToken, t);
  }

  /** Exchange a refresh token for a new access token and a new refresh token. */
  async refresh(refreshToken: string): Promise<TokenSet> {
    const t = this.now();
    const hash = sha256(refreshToken);
    const session = await this.repo.byRefreshHash(hash);
    if (!session) {
      const reusedIn = await this.repo.usedBy(hash);
      if (reusedIn !== undefined) throw await this.endForReuse(reusedIn);
      throw new RefreshError("Invalid");
    }
    if (session.revokedAt !== null) throw new RefreshError("Revoked");
    if (session.expiresAt <= t || session.lastUsedAt + this.opts.refreshIdleTtlMs <= t)
      throw new RefreshError("Expired");
    let user = await this.store.users.get(session.user);
    if (!user || user.disabled) throw new RefreshError("UserDisabled");
    const next = newRefreshToken();
    if (!(await this.repo.rotate(session.id, hash, sha256(next), t))) {
      // Another exchange of the same token won the race: that is reuse too.
      throw await this.endForReuse(session.id);
    }
    if (this.upstream) {
      // After the rotation, so a copied refresh token cannot make the provider be asked twice.
      const verdict = await this.upstream.recheck(session.id, user);
      if (verdict.kind === "gone") {
        const reason = `identity provider: ${verdict.reason}`.slice(0, 200);
        await this.revoke(session.id, reason);
        throw new RefreshError("UserDisabled", { sessionId: session.id, user: session.user, reason });
      }
      user = verdict.user;
    }
    return this.tokens(user, session.id, next, t);
  }

  /** Revoke a session whose refresh token was presented twice; the error that says so. */
  private async endForReuse(sessionId: string): Promise<RefreshError> {
    const reason = "refresh token reused";
    const row = await this.repo.get(sessionId);
    // Only the refusal that ended the session says so (a later replay ends nothing more).
    if (!(await this.revoke(sessionId, reason))) return new RefreshError("Reused");
    return new RefreshError("Reused", { sessionId, user: row?.user ?? "", reason });
  }

  /** The session a refresh token belongs to (for logout by refresh token). */
  async sessionOf(refreshToken: string): Promise<SessionRow | undefined> {
    return this.repo.byRefreshHash(sha256(refreshToken));
  }

  get(id: string): Promise<SessionRow | undefined> {
    return this.repo.get(id);
  }

  listLive(user?: string): Promise<SessionRow[]> {
    return this.repo.listLive(this.now(), user);
  }

  async revoke(id: string, reason: string): Promise<boolean> {
    const done = await this.repo.revoke(id, reason, this.now());
    // After the store write, so no request in between can re-cache a live answer.
    this.liveCache.delete(id);
    return done;
  }

  /** End every session of a user (user disabled or deleted); the ids of the sessions ended. */
  async revokeAllFor(user: string, reason: string): Promise<string[]> {
    const ids = await this.repo.revokeAllFor(user, reason, this.now());
    // After the store write, so no request in between can re-cache a live answer.
    for (const [id, e] of this.liveCache) if (e.user === user) this.liveCache.delete(id);
    return ids;
  }

  /**
   * The user behind a live session, or undefined when the session is revoked, past its absolute
   * lifetime, or its user is missing or disabled. The session's state is cached for `sessionCacheMs`
   * (revocation on this replica drops the entry); the user is read every time, so disabling or
   * deleting a user ends their tokens at once on every replica.
   */
  async liveUser(sessionId: string, userName: string): Promise<UserRecord | undefined> {
    const t = this.now();
    let hit = this.liveCache.get(sessionId);
    if (!hit || hit.until <= t) {
      const s = await this.repo.get(sessionId);
      hit = {
        until: t + this.opts.sessionCacheMs,
        live: s !== undefined && s.revokedAt === null,
        expiresAt: s?.expiresAt ?? 0,
        user: s?.user ?? "",
      };
      if (this.liveCache.size > 10_000) this.liveCache.clear();
      this.liveCache.set(sessionId, hit);
    }
    if (!hit.live || hit.expiresAt <= t || hit.user !== userName) return undefined;
    const u = await this.user(userName);
    return u && !u.disabled ? u : undefined;
  }

  /**
   * The user, from memory while the store's change stamp says no process wrote to the database
   * since it was read (SQLite; credential-cache.ts), else from the store: disabling or deleting a
   * user still ends their tokens at once on every replica.
   */
  private async user(name: string): Promise<UserRecord | undefined> {
    const { stamp, shared } = this.store.changeStamp();
    if (!this.users.enabled(shared)) return this.store.users.get(name);
    const hit = this.users.get(name, stamp);
    if (hit) return hit;
    const u = await this.store.users.get(name);
    if (u) this.users.set(name, stamp, u);
    return u;
  }

  private readonly users = new CredentialCache<UserRecord>(CREDENTIAL_CACHE_DEFAULTS, () => this.now());

  /**
   * Forget ended sessions a day after they ended, and exchanged refresh tokens once any session they
   * belonged to has passed its absolute lifetime. Runs on sign-in, at most hourly per replica.
   */
  private async purgeHourly(t: number): Promise<void> {
    if (this.lastPurge + 3_600_000 > t) return;
    this.lastPurge = t;
    await this.repo.purge(t - 86_400_000, t - this.opts.sessionAbsoluteTtlMs - 86_400_000);
  }

  private async tokens(user: UserRecord, sid: string, refreshToken: string, t: number): Promise<TokenSet> {
    const access = await signAccessToken(
      this.keys,
      this.opts,
      { sub: user.name, uid: user.uid, groups: user.groups, sid },
      t,
    );
    return {
      accessToken: access.token,
      accessTokenExpiresAt: access.expiresAt,
      refreshToken,
      sessionId: sid,
      user: user.name,
    };
  }
}
