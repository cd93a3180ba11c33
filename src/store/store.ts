import { resolve } from "node:path";
import { Migrator, sql, type Kysely } from "kysely";
import { migrationProvider } from "./migrations/index.js";
import { openKysely, redactUrl, sqliteHandles, type DatabaseLocation, type SqliteHandle } from "./dialect.js";
import type { Database } from "./schema.js";
import { StoreError } from "./errors.js";
import { UserRepository } from "./users.js";
import { SettingsRepository } from "./settings.js";
import { ObjectRepository } from "./objects.js";
import { AuditEventRepository } from "./audit-events.js";
import { AuditWorkerClient } from "./audit-worker-client.js";

/** How a store is opened. */
export interface StoreOptions {
  /**
   * SQLite files: run the audit group commit on a writer thread with its own connection, so it
   * overlaps with serialising and hashing on this thread (default true: 43-46k against 29-37k
   * events/s on the 2-core machine when quiet; slower than in-thread when other work keeps both
   * cores busy, bench/RESULTS.md "Audit pipeline"). Ignored for PostgreSQL and for `:memory:`, which
   * another connection cannot open.
   */
  auditWorker?: boolean;
}

/** The data layer: one schema, two dialects, repositories over it. */
export class Store {
  private stampQuery: ReturnType<SqliteHandle["prepare"]> | undefined;
  readonly users: UserRepository;
  readonly settings: SettingsRepository;
  readonly objects: ObjectRepository;
  readonly audit: AuditEventRepository;

  private constructor(
    readonly db: Kysely<Database>,
    readonly location: DatabaseLocation,
    auditWorker?: AuditWorkerClient,
  ) {
    this.users = new UserRepository(db);
    this.settings = new SettingsRepository(db);
    this.objects = new ObjectRepository(db);
    this.audit = new AuditEventRepository(db, location.kind, auditWorker);
  }

  /** Open and migrate to the newest schema. Fails with StoreError("Unavailable") when it cannot. */
  static async open(loc: DatabaseLocation, opts: StoreOptions = {}): Promise<Store> {
    let db: Kysely<Database>;
    try {
      db = openKysely(loc);
    } catch (e) {
      throw new StoreError("Unavailable", `cannot open ${describe(loc)}: ${(e as Error).message}`, {
        cause: e,
      });
    }
    const threaded = loc.kind === "sqlite" && loc.path !== ":memory:" && (opts.auditWorker ?? true);
    // The thread opens the same file (dialect.ts resolves it the same way) on its first batch.
    const store = new Store(db, loc, threaded ? new AuditWorkerClient(resolve(loc.path)) : undefined);
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

  /**
   * A cheap stamp (no round trip) that changes whenever the users (or the object `key`) may have
   * changed: after any write through this store and, on SQLite, after a write of a user or an
   * access key by any connection or process (the trigger-kept counter of 0006-change-stamp.ts, one
   * read of one row; not `PRAGMA data_version`, which every audit commit on the writer thread's
   * connection would change). `shared` says whether other processes' writes show in it: on
   * PostgreSQL they do not, so a cache keyed on the stamp must also expire
   * (src/identity/credential-cache.ts).
   */
  changeStamp(key?: { kind: string; namespace: string; name: string }): { stamp: string; shared: boolean } {
    const local = `${this.users.generation}.${key ? this.objects.generation(key) : 0}`;
    const raw = this.location.kind === "sqlite" ? sqliteHandles.get(this.db) : undefined;
    if (!raw) return { stamp: local, shared: false };
    this.stampQuery ??= raw.prepare("select n from change_stamp where id = 1");
    const row = this.stampQuery.get() as { n: number };
    return { stamp: `${local}.${row.n}`, shared: true };
  }

  /** A round trip to the database, for /readyz. */
  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  async close(): Promise<void> {
    await this.audit.close();
    await this.db.destroy();
  }
}

export function describe(loc: DatabaseLocation): string {
  return loc.kind === "sqlite" ? `SQLite database ${loc.path}` : `PostgreSQL database ${redactUrl(loc.url)}`;
}
