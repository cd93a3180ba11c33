import type { Kysely } from "kysely";
import type { Database } from "./schema.js";
import { StoreError, isUniqueViolation } from "./errors.js";

export interface UserRecord {
  name: string;
  uid: string;
  passwordHash: string | null;
  disabled: boolean;
  groups: string[];
  createdAt: number;
  updatedAt: number;
}

export interface Page<T> {
  items: T[];
  /** Opaque: pass back to get the next page; absent on the last page. */
  continue?: string;
}

/** Users known to Gatehouse: local (with a password hash) and those seen from identity providers. */
export class UserRepository {
  private writes = 0;

  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Counts writes through this repository (bumped after each write, failed ones too): a value read
   * before a lookup that still equals the current one after it means no write of this process
   * happened in between, so the looked-up user may be cached (src/identity/credential-cache.ts).
   */
  get generation(): number {
    return this.writes;
  }

  async create(u: UserRecord): Promise<void> {
    try {
      await this.insert(u);
    } finally {
      this.writes++;
    }
  }

  private async insert(u: UserRecord): Promise<void> {
    try {
      await this.db
        .insertInto("users")
        .values({
          name: u.name,
          uid: u.uid,
          password_hash: u.passwordHash,
          disabled: u.disabled ? 1 : 0,
          groups: JSON.stringify(u.groups),
          created_at: u.createdAt,
          updated_at: u.updatedAt,
        })
        .execute();
    } catch (e) {
      if (isUniqueViolation(e))
        throw new StoreError("AlreadyExists", `user ${JSON.stringify(u.name)} already exists`);
      throw e;
    }
  }

  async get(name: string): Promise<UserRecord | undefined> {
    const row = await this.db.selectFrom("users").selectAll().where("name", "=", name).executeTakeFirst();
    return row && toRecord(row);
  }

  async count(): Promise<number> {
    const r = await this.db
      .selectFrom("users")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  /** Users in name order, `limit` at a time, continuing after the name encoded in `cont`. */
  async list(limit: number, cont?: string): Promise<Page<UserRecord>> {
    let q = this.db
      .selectFrom("users")
      .selectAll()
      .orderBy("name")
      .limit(limit + 1);
    if (cont !== undefined) q = q.where("name", ">", cont);
    const rows = await q.execute();
    const items = rows.slice(0, limit).map(toRecord);
    const last = items[items.length - 1];
    return rows.length > limit && last ? { items, continue: last.name } : { items };
  }

  async update(
    name: string,
    patch: Partial<Pick<UserRecord, "passwordHash" | "disabled" | "groups">>,
    now: number,
  ): Promise<void> {
    try {
      await this.patch(name, patch, now);
    } finally {
      this.writes++;
    }
  }

  private async patch(
    name: string,
    patch: Partial<Pick<UserRecord, "passwordHash" | "disabled" | "groups">>,
    now: number,
  ): Promise<void> {
    const r = await this.db
      .updateTable("users")
      .set({
        ...(patch.passwordHash !== undefined ? { password_hash: patch.passwordHash } : {}),
        ...(patch.disabled !== undefined ? { disabled: patch.disabled ? 1 : 0 } : {}),
        ...(patch.groups !== undefined ? { groups: JSON.stringify(patch.groups) } : {}),
        updated_at: now,
      })
      .where("name", "=", name)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0)
      throw new StoreError("NotFound", `user ${JSON.stringify(name)} not found`);
  }

  async delete(name: string): Promise<void> {
    let r;
    try {
      r = await this.db.deleteFrom("users").where("name", "=", name).executeTakeFirst();
    } finally {
      this.writes++;
    }
    if (Number(r.numDeletedRows) === 0)
      throw new StoreError("NotFound", `user ${JSON.stringify(name)} not found`);
  }
}

function toRecord(row: Database["users"]): UserRecord {
  return {
    name: row.name,
    uid: row.uid,
    passwordHash: row.password_hash,
    disabled: row.disabled === 1,
    groups: JSON.parse(row.groups) as string[],
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}
