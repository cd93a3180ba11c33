import type { Kysely } from "kysely";
import type { Store } from "../../store/index.js";

/** The tables of migration 0003-identity, as Kysely sees them. */
export interface IdentityTables {
  signing_keys: {
    kid: string;
    alg: string;
    public_jwk: string;
    private_sealed: string;
    created_at: number;
  };
  sessions: {
    id: string;
    user_name: string;
    refresh_hash: string;
    client: string;
    created_at: number;
    last_used_at: number;
    expires_at: number;
    revoked_at: number | null;
    revoked_reason: string | null;
  };
  used_refresh_tokens: { hash: string; session_id: string; used_at: number };
}

type Db = Kysely<IdentityTables>;

export interface SigningKeyRow {
  kid: string;
  alg: string;
  publicJwk: string;
  privateSealed: string;
  createdAt: number;
}

/** The issuer's signing keys, newest first. */
export class SigningKeyRepository {
  constructor(private readonly db: Db) {}

  async list(): Promise<SigningKeyRow[]> {
    const rows = await this.db.selectFrom("signing_keys").selectAll().orderBy("created_at", "desc").execute();
    return rows.map((r) => ({
      kid: r.kid,
      alg: r.alg,
      publicJwk: r.public_jwk,
      privateSealed: r.private_sealed,
      createdAt: Number(r.created_at),
    }));
  }

  async insert(k: SigningKeyRow): Promise<void> {
    await this.db
      .insertInto("signing_keys")
      .values({
        kid: k.kid,
        alg: k.alg,
        public_jwk: k.publicJwk,
        private_sealed: k.privateSealed,
        created_at: k.createdAt,
      })
      .execute();
  }

  /** Drop keys created before `before` (no token they signed can still be valid). */
  async deleteOlderThan(before: number): Promise<void> {
    await this.db.deleteFrom("signing_keys").where("created_at", "<", before).execute();
  }
}

export interface SessionRow {
  id: string;
  user: string;
  client: string;
  createdAt: number;
  lastUsedAt: number;
  expiresAt: number;
  revokedAt: number | null;
  revokedReason: string | null;
}

type RawSession = IdentityTables["sessions"];

const toSession = (r: RawSession): SessionRow => ({
  id: r.id,
  user: r.user_name,
  client: r.client,
  createdAt: Number(r.created_at),
  lastUsedAt: Number(r.last_used_at),
  expiresAt: Number(r.expires_at),
  revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
  revokedReason: r.revoked_reason,
});

/** Refresh sessions: one row per signed-in client, the current refresh token's hash, and used hashes. */
export class SessionRepository {
  constructor(private readonly db: Db) {}

  async create(s: SessionRow, refreshHash: string): Promise<void> {
    await this.db
      .insertInto("sessions")
      .values({
        id: s.id,
        user_name: s.user,
        refresh_hash: refreshHash,
        client: s.client,
        created_at: s.createdAt,
        last_used_at: s.lastUsedAt,
        expires_at: s.expiresAt,
        revoked_at: null,
        revoked_reason: null,
      })
      .execute();
  }

  async get(id: string): Promise<SessionRow | undefined> {
    const r = await this.db.selectFrom("sessions").selectAll().where("id", "=", id).executeTakeFirst();
    return r && toSession(r);
  }

  async byRefreshHash(hash: string): Promise<SessionRow | undefined> {
    const r = await this.db
      .selectFrom("sessions")
      .selectAll()
      .where("refresh_hash", "=", hash)
      .executeTakeFirst();
    return r && toSession(r);
  }

  /** The session a refresh token was once current for, if it has been exchanged already. */
  async usedBy(hash: string): Promise<string | undefined> {
    const r = await this.db
      .selectFrom("used_refresh_tokens")
      .select("session_id")
      .where("hash", "=", hash)
      .executeTakeFirst();
    return r?.session_id;
  }

  /**
   * Replace the refresh token, only if `oldHash` is still current (compare-and-swap): of two
   * concurrent exchanges of one token, exactly one wins. Returns whether this call won.
   */
  async rotate(id: string, oldHash: string, newHash: string, now: number): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const r = await tx
        .updateTable("sessions")
        .set({ refresh_hash: newHash, last_used_at: now })
        .where("id", "=", id)
        .where("refresh_hash", "=", oldHash)
        .where("revoked_at", "is", null)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) return false;
      await tx
        .insertInto("used_refresh_tokens")
        .values({ hash: oldHash, session_id: id, used_at: now })
        .execute();
      return true;
    });
  }

  async revoke(id: string, reason: string, now: number): Promise<boolean> {
    const r = await this.db
      .updateTable("sessions")
      .set({ revoked_at: now, revoked_reason: reason })
      .where("id", "=", id)
      .where("revoked_at", "is", null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** Revoke every live session of a user; the ids of the sessions this call revoked. */
  async revokeAllFor(user: string, reason: string, now: number): Promise<string[]> {
    const rows = await this.db
      .updateTable("sessions")
      .set({ revoked_at: now, revoked_reason: reason })
      .where("user_name", "=", user)
      .where("revoked_at", "is", null)
      .returning("id")
      .execute();
    return rows.map((r) => r.id);
  }

  /**
   * Delete sessions that ended before `endedBefore` and exchanged refresh tokens used before
   * `usedBefore` (old enough that their session has surely ended, so reuse detection loses nothing).
   */
  async purge(endedBefore: number, usedBefore: number): Promise<void> {
    await this.db
      .deleteFrom("sessions")
      .where((eb) => eb.or([eb("expires_at", "<", endedBefore), eb("revoked_at", "<", endedBefore)]))
      .execute();
    await this.db.deleteFrom("used_refresh_tokens").where("used_at", "<", usedBefore).execute();
  }

  /** Sessions not revoked and not past their absolute lifetime, newest first; all users when `user` is absent. */
  async listLive(now: number, user?: string): Promise<SessionRow[]> {
    let q = this.db
      .selectFrom("sessions")
      .selectAll()
      .where("revoked_at", "is", null)
      .where("expires_at", ">", now);
    if (user !== undefined) q = q.where("user_name", "=", user);
    return (await q.orderBy("created_at", "desc").execute()).map(toSession);
  }
}

/** The identity repositories over a store's database (tables from migration 0003). */
export function identityRepositories(store: Store): {
  keys: SigningKeyRepository;
  sessions: SessionRepository;
} {
  // The tables are created by migration 0003; the store's own schema type does not list them.
  const db = store.db as unknown as Db;
  return { keys: new SigningKeyRepository(db), sessions: new SessionRepository(db) };
}
