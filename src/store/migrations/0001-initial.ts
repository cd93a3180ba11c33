import type { Kysely, Migration } from "kysely";

export const m0001Initial: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable("settings")
      .addColumn("key", "text", (c) => c.primaryKey())
      .addColumn("value", "text", (c) => c.notNull())
      .execute();
    await db.schema
      .createTable("users")
      .addColumn("name", "text", (c) => c.primaryKey())
      .addColumn("uid", "text", (c) => c.notNull().unique())
      .addColumn("password_hash", "text")
      .addColumn("disabled", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("groups", "text", (c) => c.notNull().defaultTo("[]"))
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .execute();
    await db.schema
      .createTable("objects")
      .addColumn("kind", "text", (c) => c.notNull())
      .addColumn("namespace", "text", (c) => c.notNull().defaultTo(""))
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("uid", "text", (c) => c.notNull().unique())
      .addColumn("resource_version", "bigint", (c) => c.notNull())
      .addColumn("body", "text", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("objects_pk", ["kind", "namespace", "name"])
      .execute();
    await db.schema
      .createTable("sequences")
      .addColumn("name", "text", (c) => c.primaryKey())
      .addColumn("value", "bigint", (c) => c.notNull().defaultTo(0))
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    for (const t of ["sequences", "objects", "users", "settings"]) await db.schema.dropTable(t).execute();
  },
};
