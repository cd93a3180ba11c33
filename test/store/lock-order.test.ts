import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { Store } from "../../src/store/index.js";
import { freshPostgresDatabase } from "../harness/databases.js";

/**
 * Every object write takes the resource-version sequence row first and the object's row second, so
 * two replicas writing the same object wait for each other instead of deadlocking. PostgreSQL only:
 * SQLite has no row locks (one writer at a time).
 */
describe("object writes on PostgreSQL take their locks in one order", () => {
  let url: string;
  let store: Store;
  let other: pg.Client;
  beforeAll(async () => {
    url = await freshPostgresDatabase();
    store = await Store.open({ kind: "postgres", url });
    other = new pg.Client({ connectionString: url });
    await other.connect();
  });
  afterAll(async () => {
    await other.end();
    await store.close();
  });

  /** Until another backend waits on a lock (the store's delete, blocked by `other`). */
  async function untilBlocked(): Promise<void> {
    const end = Date.now() + 10_000;
    for (;;) {
      const r = await other.query<{ n: string }>(
        "select count(*) as n from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()",
      );
      if (Number(r.rows[0]?.n) > 0) return;
      if (Date.now() > end) throw new Error("the delete never waited for the sequence lock");
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it("deletes an object that another replica is updating once that update commits, without a deadlock", async () => {
    const key = { kind: "Team", namespace: "", name: "locked" };
    await store.objects.create(key, "uid-locked", { v: 0 }, 1);
    // Another replica's update, half done: it has taken the next resource version (its first lock)...
    await other.query("begin");
    await other.query("update sequences set value = value + 1 where name = 'resource_version'");
    const deleted = store.objects.delete(key);
    const settled = deleted.then(
      () => "deleted",
      (e: unknown) => String(e),
    );
    await untilBlocked();
    // ...and now writes the object (its second lock). A delete that locked the row first deadlocks here.
    await other.query(
      "update objects set body = $1 where kind = 'Team' and namespace = '' and name = 'locked'",
      [JSON.stringify({ v: 1 })],
    );
    await other.query("commit");
    expect(await settled).toBe("deleted");
    expect(await store.objects.get(key)).toBeUndefined();
  });
});
