import { sql, type ExpressionBuilder, type Kysely, type Transaction } from "kysely";
import type { Database } from "./schema.js";
import { StoreError, isUniqueViolation } from "./errors.js";
import type { Page } from "./users.js";

/** A stored gatehouse.io object: the whole object as JSON plus its key and version. */
export interface StoredObject {
  kind: string;
  namespace: string;
  name: string;
  uid: string;
  resourceVersion: number;
  body: Record<string, unknown>;
  createdAt: number;
}

type Key = { kind: string; namespace: string; name: string };

const MAX_TRACKED_WRITES = 10_000;
const writeKey = (key: Key): string => `${key.kind}\u0000${key.namespace}\u0000${key.name}`;

/** The primary-key condition for one object. */
function whereKey(key: Key) {
  return (eb: ExpressionBuilder<Database, "objects">) =>
    eb.and([eb("kind", "=", key.kind), eb("namespace", "=", key.namespace), eb("name", "=", key.name)]);
}

/**
 * Generic storage for Kubernetes-style objects (teams, access bindings, clusters, identity providers...).
 * Every write takes the next value of one global resource-version sequence, so versions order writes
 * across kinds, and updates are optimistic: they name the version they read.
 */
export class ObjectRepository {
  private readonly writes = new Map<string, number>();
  /** Bumped each time `writes` is emptied (to bound it), so no generation ever repeats. */
  private epoch = 0;

  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Counts writes of one object through this repository (bumped after each create, update or
   * delete, failed ones too); see UserRepository.generation. Short-lived objects (sign-in codes)
   * would grow the counts without end: past 10,000 objects they are dropped and a new epoch begins,
   * which changes every object's generation once.
   */
  generation(key: Key): string {
    return `${this.epoch}.${this.writes.get(writeKey(key)) ?? 0}`;
  }

  private wrote(key: Key): void {
    const k = writeKey(key);
    if (!this.writes.has(k) && this.writes.size >= MAX_TRACKED_WRITES) {
      this.writes.clear();
      this.epoch++;
    }
    this.writes.set(k, (this.writes.get(k) ?? 0) + 1);
  }

  async get(key: Key): Promise<StoredObject | undefined> {
    const row = await this.db.selectFrom("objects").selectAll().where(whereKey(key)).executeTakeFirst();
    return row && toStored(row);
  }

  /** Objects of a kind (optionally one namespace) in name order, paged. */
  async list(
    kind: string,
    opts: { namespace?: string; limit: number; continue?: string },
  ): Promise<Page<StoredObject>> {
    let q = this.db.selectFrom("objects").selectAll().where("kind", "=", kind);
    if (opts.namespace !== undefined) q = q.where("namespace", "=", opts.namespace);
    if (opts.continue !== undefined) {
      const [ns, name] = decodeContinue(opts.continue);
      q = q.where((eb) =>
        eb.or([eb("namespace", ">", ns), eb.and([eb("namespace", "=", ns), eb("name", ">", name)])]),
      );
    }
    const rows = await q
      .orderBy("namespace")
      .orderBy("name")
      .limit(opts.limit + 1)
      .execute();
    const items = rows.slice(0, opts.limit).map(toStored);
    const last = items[items.length - 1];
    return rows.length > opts.limit && last
      ? { items, continue: encodeContinue(last.namespace, last.name) }
      : { items };
  }

  async create(key: Key, uid: string, body: Record<string, unknown>, now: number): Promise<StoredObject> {
    try {
      return await this.insert(key, uid, body, now);
    } finally {
      this.wrote(key);
    }
  }

  private insert(key: Key, uid: string, body: Record<string, unknown>, now: number): Promise<StoredObject> {
    return this.db.transaction().execute(async (tx) => {
      const rv = await nextVersion(tx);
      try {
        await tx
          .insertInto("objects")
          .values({ ...key, uid, resource_version: rv, body: JSON.stringify(body), created_at: now })
          .execute();
      } catch (e) {
        if (isUniqueViolation(e))
          throw new StoreError("AlreadyExists", `${key.kind} ${JSON.stringify(key.name)} already exists`);
        throw e;
      }
      return { ...key, uid, resourceVersion: rv, body, createdAt: now };
    });
  }

  /** Replace the body if the stored version is still `expectedVersion` (undefined: unconditionally). */
  async update(key: Key, body: Record<string, unknown>, expectedVersion?: number): Promise<StoredObject> {
    try {
      return await this.replace(key, body, expectedVersion);
    } finally {
      this.wrote(key);
    }
  }

  private replace(key: Key, body: Record<string, unknown>, expectedVersion?: number): Promise<StoredObject> {
    return this.db.transaction().execute(async (tx) => {
      const current = await tx.selectFrom("objects").selectAll().where(whereKey(key)).executeTakeFirst();
      if (!current) throw new StoreError("NotFound", `${key.kind} ${JSON.stringify(key.name)} not found`);
      if (expectedVersion !== undefined && Number(current.resource_version) !== expectedVersion) {
        throw new StoreError(
          "Conflict",
          `Operation cannot be fulfilled on ${key.kind} ${JSON.stringify(key.name)}: the object has been modified; please apply your changes to the latest version and try again`,
        );
      }
      const rv = await nextVersion(tx);
      // The version is checked again by the UPDATE itself: on PostgreSQL (read committed) two
      // transactions can both pass the SELECT above, and the second must not overwrite the first.
      let q = tx
        .updateTable("objects")
        .set({ body: JSON.stringify(body), resource_version: rv })
        .where(whereKey(key));
      if (expectedVersion !== undefined) q = q.where("resource_version", "=", expectedVersion);
      const r = await q.executeTakeFirst();
      if (r.numUpdatedRows === 0n && expectedVersion === undefined)
        throw new StoreError("NotFound", `${key.kind} ${JSON.stringify(key.name)} not found`);
      if (r.numUpdatedRows === 0n)
        throw new StoreError(
          "Conflict",
          `Operation cannot be fulfilled on ${key.kind} ${JSON.stringify(key.name)}: the object has been modified; please apply your changes to the latest version and try again`,
        );
      return { ...toStored(current), body, resourceVersion: rv };
    });
  }

  async delete(key: Key): Promise<StoredObject> {
    try {
      return await this.remove(key);
    } finally {
      this.wrote(key);
    }
  }

  private remove(key: Key): Promise<StoredObject> {
    return this.db.transaction().execute(async (tx) => {
      const current = await tx.selectFrom("objects").selectAll().where(whereKey(key)).executeTakeFirst();
      if (!current) throw new StoreError("NotFound", `${key.kind} ${JSON.stringify(key.name)} not found`);
      // The sequence row first, the object's row second, as create and update do: concurrent writers
      // of one object on PostgreSQL then wait for each other instead of deadlocking.
      await nextVersion(tx);
      const gone = await tx.deleteFrom("objects").where(whereKey(key)).returningAll().executeTakeFirst();
      if (!gone) throw new StoreError("NotFound", `${key.kind} ${JSON.stringify(key.name)} not found`);
      return toStored(gone);
    });
  }
}

/** Advance the store's global resource-version sequence inside a transaction. */
export async function nextVersion(tx: Transaction<Database>): Promise<number> {
  const r = await sql<{ value: number }>`
    insert into sequences (name, value) values ('resource_version', 1)
    on conflict (name) do update set value = sequences.value + 1
    returning value`.execute(tx);
  return Number(r.rows[0]?.value);
}

function toStored(row: Database["objects"]): StoredObject {
  return {
    kind: row.kind,
    namespace: row.namespace,
    name: row.name,
    uid: row.uid,
    resourceVersion: Number(row.resource_version),
    body: JSON.parse(row.body) as Record<string, unknown>,
    createdAt: Number(row.created_at),
  };
}

function encodeContinue(ns: string, name: string): string {
  return Buffer.from(JSON.stringify([ns, name])).toString("base64url");
}

/** Continue tokens come from clients: anything malformed is a 400, never a crash. */
function decodeContinue(token: string): [string, string] {
  try {
    const v = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as unknown;
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === "string" && typeof v[1] === "string")
      return [v[0], v[1]];
  } catch {
    // fall through
  }
  throw new StoreError("BadRequest", "invalid continue token");
}
