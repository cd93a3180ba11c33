import { Migrator, sql, type Kysely } from "kysely";
import { migrationProvider } from "./migrations/index.js";
import { openKysely, redactUrl, type DatabaseLocation } from "./dialect.js";
import type { Database } from "./schema.js";
import { StoreError } from "./errors.js";
import { UserRepository } from "./users.js";
import { SettingsRepository } from "./settings.js";
import { ObjectRepository } from "./objects.js";
import { AuditEventRepository } from "./audit-events.js";

/** The data layer: one schema, two dialects, repositories over it. */
export class Store {
  readonly users: UserRepository;
  readonly settings: SettingsRepository;
  readonly objects: ObjectRepository;
  readonly audit: AuditEventRepository;

  private constructor(
    readonly db: Kysely<Database>,
    readonly location: DatabaseLocation,
  ) {
    this.users = new UserRepository(db);
    this.settings = new SettingsRepository(db);
    this.objects = new ObjectRepository(db);
    this.audit = new AuditEventRepository(db, location.kind);
  }

  /** Open and migrate to the newest schema. Fails with StoreError("Unavailable") when it cannot. */
  static async open(loc: DatabaseLocation): Promise<Store> {
    let db: Kysely<Database>;
    try {
      db = openKysely(loc);
    } catch (e) {
      throw new StoreError("Unavailable", `cannot open ${describe(loc)}: ${(e as Error).message}`, {
        cause: e,
      });
    }
    const store = new Store(db, loc);
    try {
      await store.ping();
      await store.migrate();
    } catch (e) {
      await db.destroy().catch(() => undefined);
      if (e instanceof StoreError) throw e;
      throw new StoreError("Unavailable", `cannot use ${describe(loc)}: ${(e as Error).message}`, {
        cause: e,
      });
    }
    return store;
  }

  async migrate(): Promise<void> {
    const { error } = await new Migrator({ db: this.db, provider: migrationProvider }).migrateToLatest();
    if (error) throw error instanceof Error ? error : new Error(String(error));
  }

  /** A round trip to the database, for /readyz. */
  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}

export function describe(loc: DatabaseLocation): string {
  return loc.kind === "sqlite" ? `SQLite database ${loc.path}` : `PostgreSQL database ${redactUrl(loc.url)}`;
}
