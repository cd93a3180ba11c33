import type { Kysely, Migration } from "kysely";

/**
 * Gatehouse as token issuer: its signing keys (private keys sealed with the key ring) and the
 * refresh sessions behind the access tokens it issues (refresh tokens stored as SHA-256 only).
 */
export const m0003Identity: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable("signing_keys")
      .addColumn("kid", "text", (c) => c.primaryKey())
      .addColumn("alg", "text", (c) => c.notNull())
      .addColumn("public_jwk", "text", (c) => c.notNull())
      .addColumn("private_sealed", "text", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .execute();
    await db.schema
      .createTable("sessions")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("user_name", "text", (c) => c.notNull())
      .addColumn("refresh_hash", "text", (c) => c.notNull().unique())
      .addColumn("client", "text", (c) => c.notNull().defaultTo(""))
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("last_used_at", "bigint", (c) => c.notNull())
      .addColumn("expires_at", "bigint", (c) => c.notNull())
      .addColumn("revoked_at", "bigint")
      .addColumn("revoked_reason", "text")
      .execute();
    await db.schema.createIndex("sessions_user").on("sessions").column("user_name").execute();
    // Refresh tokens already exchanged: presenting one again is reuse, which revokes the session.
    await db.schema
      .createTable("used_refresh_tokens")
      .addColumn("hash", "text", (c) => c.primaryKey())
      .addColumn("session_id", "text", (c) => c.notNull())
      .addColumn("used_at", "bigint", (c) => c.notNull())
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    for (const t of ["used_refresh_tokens", "sessions", "signing_keys"])
      await db.schema.dropTable(t).execute();
  },
};
