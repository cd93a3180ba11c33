import { PostgresAdapter, sql, type Kysely, type Migration } from "kysely";

/**
 * SQLite only: a one-row counter that triggers bump whenever something an authentication answer
 * depends on changes (a user row; an access key created, deleted, or with its secret or spec
 * changed — not its `status.lastUsed`, written once a minute per key in use), whichever connection
 * or process wrote it. Store.changeStamp reads it (one indexed read of one row) so that the
 * credential cache (src/identity/credential-cache.ts) drops its answers at once after such a write.
 * `PRAGMA data_version` did the same before, but it changes on every commit by any other
 * connection, and the audit writer thread commits on its own connection many times a second.
 * PostgreSQL caches no authentication answers (other replicas' writes are not seen), so it needs
 * none of this.
 */
export const m0006ChangeStamp: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    if (db.getExecutor().adapter instanceof PostgresAdapter) return;
    await sql`create table change_stamp (id integer primary key check (id = 1), n integer not null)`.execute(
      db,
    );
    await sql`insert into change_stamp (id, n) values (1, 0)`.execute(db);
    const bump = sql.raw("update change_stamp set n = n + 1 where id = 1;");
    for (const op of ["insert", "update", "delete"])
      await sql`create trigger ${sql.raw(`change_stamp_users_${op}`)} after ${sql.raw(op)} on users
        begin ${bump} end`.execute(db);
    const key = (row: "new" | "old") => sql.raw(`${row}.kind = 'AccessKey'`);
    await sql`create trigger change_stamp_keys_insert after insert on objects when ${key("new")}
      begin ${bump} end`.execute(db);
    await sql`create trigger change_stamp_keys_delete after delete on objects when ${key("old")}
      begin ${bump} end`.execute(db);
    await sql`create trigger change_stamp_keys_update after update on objects
      when ${key("old")} and (
        new.kind is not old.kind or new.name is not old.name or
        json_extract(new.body, '$.secretHash') is not json_extract(old.body, '$.secretHash') or
        json_extract(new.body, '$.spec') is not json_extract(old.body, '$.spec'))
      begin ${bump} end`.execute(db);
  },
  async down(db: Kysely<unknown>): Promise<void> {
    if (db.getExecutor().adapter instanceof PostgresAdapter) return;
    for (const t of [
      "users_insert",
      "users_update",
      "users_delete",
      "keys_insert",
      "keys_delete",
      "keys_update",
    ])
      await sql`drop trigger ${sql.raw(`change_stamp_${t}`)}`.execute(db);
    await sql`drop table change_stamp`.execute(db);
  },
};
