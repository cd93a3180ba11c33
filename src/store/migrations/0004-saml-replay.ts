import type { Kysely, Migration } from "kysely";

/**
 * SAML assertion IDs already used to sign someone in, kept until the assertion expires so that a
 * replayed assertion is refused by every replica (the primary key makes the first use win).
 * `id` is SHA-256 of provider, IdP entity ID and assertion ID; `expires_at` is epoch milliseconds.
 */
export const m0004SamlReplay: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable("saml_assertion_ids")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("provider", "text", (c) => c.notNull())
      .addColumn("expires_at", "bigint", (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex("saml_assertion_ids_expiry")
      .on("saml_assertion_ids")
      .column("expires_at")
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable("saml_assertion_ids").execute();
  },
};
