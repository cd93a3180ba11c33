import type { Kysely } from "kysely";
import type { Database } from "./schema.js";

/** Small named values the server keeps (bootstrap markers, key ids). */
export class SettingsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async get(key: string): Promise<string | undefined> {
    const r = await this.db.selectFrom("settings").select("value").where("key", "=", key).executeTakeFirst();
    return r?.value;
  }

  /** Set a value only if the key is absent; returns whether this call set it (first writer wins). */
  async setIfAbsent(key: string, value: string): Promise<boolean> {
    const r = await this.db
      .insertInto("settings")
      .values({ key, value })
      .onConflict((oc) => oc.column("key").doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async set(key: string, value: string): Promise<void> {
    await this.db
      .insertInto("settings")
      .values({ key, value })
      .onConflict((oc) => oc.column("key").doUpdateSet({ value }))
      .execute();
  }
}
