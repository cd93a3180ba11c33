import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Store, StoreError } from "../../src/store/index.js";
import { freshDatabases } from "../harness/databases.js";

const dialects = await freshDatabases();

/**
 * Optimistic updates that name the same version race. Exactly one wins; the others get Conflict,
 * never a silent overwrite. On PostgreSQL the writers are two connections, as two replicas (read
 * committed lets both transactions see the old version: the UPDATE itself must check it); SQLite
 * serves one replica, so there they share the one connection.
 */
describe.each(dialects)("concurrent optimistic object updates on $name", ({ name, location }) => {
  let a: Store;
  let b: Store;
  beforeAll(async () => {
    a = await Store.open(location);
    b = name === "postgres" ? await Store.open(location) : a;
  });
  afterAll(async () => {
    if (b !== a) await b.close();
    await a.close();
  });

  it("lets exactly one of many concurrent updates of the same version win", async () => {
    const key = { kind: "Team", namespace: "", name: "race" };
    const created = await a.objects.create(key, "uid-race", { v: 0 }, 1);
    for (let round = 1; round <= 5; round++) {
      const current = (await a.objects.get(key))?.resourceVersion ?? created.resourceVersion;
      const writers = Array.from({ length: 6 }, (_, i) =>
        (i % 2 === 0 ? a : b).objects.update(key, { v: round, writer: i }, current),
      );
      const results = await Promise.allSettled(writers);
      const won = results.flatMap((r, i) => (r.status === "fulfilled" ? [i] : []));
      expect(won, `round ${round}`).toHaveLength(1);
      for (const r of results)
        if (r.status === "rejected") {
          expect(r.reason).toBeInstanceOf(StoreError);
          expect((r.reason as StoreError).code).toBe("Conflict");
        }
      const stored = await b.objects.get(key);
      expect(stored?.body).toEqual({ v: round, writer: won[0] });
    }
  });

  it("an update without a version still replaces, and one of a deleted object is NotFound", async () => {
    const key = { kind: "Team", namespace: "", name: "plain" };
    await a.objects.create(key, "uid-plain", { v: 0 }, 1);
    await b.objects.update(key, { v: 1 });
    expect((await a.objects.get(key))?.body).toEqual({ v: 1 });
    await a.objects.delete(key);
    await expect(b.objects.update(key, { v: 2 })).rejects.toMatchObject({ code: "NotFound" });
  });
});
