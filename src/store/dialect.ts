import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import pg from "pg";
import { CompiledQuery, Kysely, PostgresDialect, SqliteDialect, type Driver } from "kysely";
import type { Database } from "./schema.js";

/** Where the store lives: the embedded SQLite file, or a PostgreSQL server (for several replicas). */
export type DatabaseLocation = { kind: "sqlite"; path: string } | { kind: "postgres"; url: string };

/** Parse `sqlite:PATH` or a `postgres://` / `postgresql://` URL. */
export function parseDatabaseUrl(value: string): DatabaseLocation {
  if (value.startsWith("sqlite:")) {
    const path = value.slice("sqlite:".length);
    if (path === "")
      throw new Error("database: sqlite: needs a file path, e.g. sqlite:./.gatehouse/gatehouse.db");
    return { kind: "sqlite", path };
  }
  if (/^postgres(ql)?:\/\//.test(value)) {
    try {
      new URL(value);
    } catch {
      throw new Error(`database: not a valid PostgreSQL URL: ${redactUrl(value)}`);
    }
    return { kind: "postgres", url: value };
  }
  throw new Error(
    `database: expected sqlite:PATH or a postgres:// URL, got ${JSON.stringify(redactUrl(value))}`,
  );
}

/** A URL with any password replaced, safe to log or print. */
export function redactUrl(value: string): string {
  return value.replace(/(\/\/[^:/@]*:)[^@]*@/, "$1***@");
}

/**
 * The better-sqlite3 handle behind a SQLite Kysely instance, for the audit group commit, which
 * keeps its multi-row INSERT prepared (Kysely prepares every statement anew). Use it only inside a
 * Kysely transaction on that instance, which holds the one connection.
 */
export const sqliteHandles: WeakMap<Kysely<Database>, SqliteHandle> = new WeakMap();

/** What the audit group commit uses of a better-sqlite3 handle. */
export interface SqliteHandle {
  prepare(sql: string): { run(params: unknown[]): unknown; get(params?: unknown[]): unknown };
  transaction<T>(fn: () => T): () => T;
  readonly inTransaction: boolean;
}

/** Open a Kysely instance for a location. SQLite files are created; PostgreSQL must be reachable. */
export function openKysely(loc: DatabaseLocation): Kysely<Database> {
  switch (loc.kind) {
    case "sqlite": {
      const path = resolve(loc.path);
      mkdirSync(dirname(path), { recursive: true });
      const sqlite = new BetterSqlite3(path);
      // WAL keeps readers and the writer apart; a committed transaction survives kill -9.
      sqlite.pragma("journal_mode = WAL");
      sqlite.pragma("synchronous = NORMAL");
      sqlite.pragma("busy_timeout = 5000");
      sqlite.pragma("foreign_keys = ON");
      const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: sqlite }) });
      sqliteHandles.set(db, sqlite);
      return db;
    }
    case "postgres": {
      const pool = new pg.Pool({
        connectionString: loc.url,
        max: 10,
        connectionTimeoutMillis: 5000,
        // bigint columns hold milliseconds and resource versions: well inside 2^53.
        types: {
          getTypeParser: (oid: number, format?: string) =>
            oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as "text"),
        },
      });
      return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    }
  }
}

/**
 * SQLite with every Kysely transaction begun IMMEDIATE (the write lock at BEGIN, waiting up to
 * busy_timeout). The audit writer thread commits on its own connection to the same file: a
 * deferred transaction that read before one of its commits could then not write at all (WAL
 * answers SQLITE_BUSY at once instead of waiting, as its snapshot is stale).
 */
class ImmediateSqliteDialect extends SqliteDialect {
  override createDriver(): Driver {
    const driver = super.createDriver();
    driver.beginTransaction = async (connection) => {
      await connection.executeQuery(CompiledQuery.raw("begin immediate"));
    };
    return driver;
  }
}
