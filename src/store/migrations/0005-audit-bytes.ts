import { PostgresAdapter, sql, type Kysely, type Migration } from "kysely";

/**
 * Retention by size: `bytes_end` is the running total of stored event bytes (the UTF-8 bytes of
 * `event`, the exact text that is hashed) up to and including each event, so the size kept is the
 * head's `bytes_end` minus the retention anchor's, and the cut point for a size limit is found by
 * reading the oldest rows in chain order, never by summing the table. Rows already stored are not
 * rewritten (an UPDATE of every row of a 10-million-event table would copy it into the WAL, or
 * double it on PostgreSQL until vacuumed): they keep NULL, and only the newest of them gets the total
 * of all of them (one read of the table, here, once), which new rows continue from. Retention
 * computes the totals of the older ones from the anchor and their lengths as it deletes them.
 *
 * The impersonated-user index becomes partial: almost every event has no impersonated user, and the
 * query that filters on it (`username = ? or impersonated_user = ?`) also states
 * `impersonated_user <> ''`, which lets SQLite and PostgreSQL use the partial index.
 */
export const m0005AuditBytes: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    const pg = db.getExecutor().adapter instanceof PostgresAdapter;
    await db.schema.alterTable("audit_events").addColumn("bytes_end", "bigint").execute();
    const len = pg ? sql`octet_length(event)` : sql`length(cast(event as blob))`;
    await sql`update audit_events set bytes_end = (select sum(${len}) from audit_events)
      where seq = (select max(seq) from audit_events)`.execute(db);
    await db.schema.dropIndex("audit_events_imp_ts").execute();
    await sql`create index audit_events_imp_ts on audit_events (impersonated_user, ts, seq) where impersonated_user <> ''`.execute(
      db,
    );
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropIndex("audit_events_imp_ts").execute();
    await db.schema
      .createIndex("audit_events_imp_ts")
      .on("audit_events")
      .columns(["impersonated_user", "ts", "seq"])
      .execute();
    await db.schema.alterTable("audit_events").dropColumn("bytes_end").execute();
  },
};
