import { PostgresAdapter, sql, type Kysely, type Migration } from "kysely";

/**
 * Audit events: one row per stored audit.k8s.io/v1 Event, chained by hash (core/audit/chain.ts).
 * `id` is the storage order (an identity column), `seq` the chain position the writer assigns; the
 * verifier walks rows by `id`, so rows deleted and re-inserted elsewhere show up as reordered.
 * Filter columns are copied out of the event so that the indexed queries (user, cluster, auditID,
 * each with time) never parse JSON. `ts` is the stage time in epoch milliseconds.
 */
export const m0002Audit: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    const pg = db.getExecutor().adapter instanceof PostgresAdapter;
    await db.schema
      .createTable("audit_events")
      .addColumn("id", pg ? sql`bigint generated always as identity primary key` : "integer", (c) =>
        pg ? c : c.primaryKey().autoIncrement(),
      )
      .addColumn("seq", "bigint", (c) => c.notNull().unique())
      .addColumn("prev_hash", "text", (c) => c.notNull())
      .addColumn("hash", "text", (c) => c.notNull())
      .addColumn("source", "text", (c) => c.notNull())
      .addColumn("audit_id", "text", (c) => c.notNull())
      .addColumn("stage", "text", (c) => c.notNull())
      .addColumn("ts", "bigint", (c) => c.notNull())
      .addColumn("cluster", "text", (c) => c.notNull())
      .addColumn("username", "text", (c) => c.notNull())
      .addColumn("impersonated_user", "text", (c) => c.notNull())
      .addColumn("groups", "text", (c) => c.notNull())
      .addColumn("verb", "text", (c) => c.notNull())
      .addColumn("api_group", "text", (c) => c.notNull())
      .addColumn("resource", "text", (c) => c.notNull())
      .addColumn("namespace", "text", (c) => c.notNull())
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("code", "integer", (c) => c.notNull())
      .addColumn("decision", "text", (c) => c.notNull())
      .addColumn("impact", "text", (c) => c.notNull())
      .addColumn("event", "text", (c) => c.notNull())
      .execute();
    const index = (name: string, cols: string[]) =>
      db.schema.createIndex(name).on("audit_events").columns(cols).execute();
    await index("audit_events_user_ts", ["username", "ts", "seq"]);
    await index("audit_events_imp_ts", ["impersonated_user", "ts", "seq"]);
    await index("audit_events_cluster_ts", ["cluster", "ts", "seq"]);
    await index("audit_events_ts", ["ts", "seq"]);
    await index("audit_events_audit_id", ["audit_id"]);
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable("audit_events").execute();
  },
};
