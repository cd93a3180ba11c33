import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Store, StoreError } from "../../src/store/index.js";
import { freshDatabases } from "../harness/databases.js";

const dialects = await freshDatabases();

describe.each(dialects)("the data layer on $name", ({ location }) => {
  let store: Store;
  beforeAll(async () => {
    store = await Store.open(location);
  });
  afterAll(async () => {
    await store.close();
  });

  it("migrates an empty database and migrating again changes nothing", async () => {
    await store.migrate();
    expect(await store.users.count()).toBe(0);
  });

  it("creates, reads, updates and deletes users", async () => {
    await store.users.create({
      name: "alice",
      uid: "u-alice",
      passwordHash: "$argon2id$x",
      disabled: false,
      groups: ["dev"],
      createdAt: 1000,
      updatedAt: 1000,
    });
    expect(await store.users.get("alice")).toEqual({
      name: "alice",
      uid: "u-alice",
      passwordHash: "$argon2id$x",
      disabled: false,
      groups: ["dev"],
      createdAt: 1000,
      updatedAt: 1000,
    });
    await store.users.update("alice", { disabled: true, groups: ["dev", "ops"] }, 2000);
    const u = await store.users.get("alice");
    expect(u?.disabled).toBe(true);
    expect(u?.groups).toEqual(["dev", "ops"]);
    expect(u?.updatedAt).toBe(2000);
    await store.users.delete("alice");
    expect(await store.users.get("alice")).toBeUndefined();
  });

  it("refuses a second user with the same name with AlreadyExists", async () => {
    const u = {
      name: "bob",
      uid: "u-bob",
      passwordHash: null,
      disabled: false,
      groups: [],
      createdAt: 1,
      updatedAt: 1,
    };
    await store.users.create(u);
    await expect(store.users.create({ ...u, uid: "u-bob-2" })).rejects.toMatchObject({
      code: "AlreadyExists",
    });
  });

  it("reports NotFound for updates and deletes of missing users", async () => {
    await expect(store.users.update("nobody", { disabled: true }, 1)).rejects.toBeInstanceOf(StoreError);
    await expect(store.users.delete("nobody")).rejects.toMatchObject({ code: "NotFound" });
  });

  it("pages through users with continue tokens in name order", async () => {
    for (const n of ["p1", "p2", "p3", "p4", "p5"]) {
      await store.users.create({
        name: n,
        uid: `u-${n}`,
        passwordHash: null,
        disabled: false,
        groups: [],
        createdAt: 1,
        updatedAt: 1,
      });
    }
    const names: string[] = [];
    let cont: string | undefined;
    let pages = 0;
    do {
      const page = await store.users.list(2, cont);
      names.push(...page.items.map((u) => u.name));
      cont = page.continue;
      pages++;
    } while (cont !== undefined);
    expect(names).toEqual(["bob", "p1", "p2", "p3", "p4", "p5"]);
    expect(pages).toBe(3);
  });

  it("gives every object write a new, increasing resource version", async () => {
    const a = await store.objects.create(
      { kind: "Team", namespace: "", name: "a" },
      "uid-a",
      { spec: { x: 1 } },
      10,
    );
    const b = await store.objects.create(
      { kind: "Team", namespace: "", name: "b" },
      "uid-b",
      { spec: { x: 2 } },
      10,
    );
    expect(b.resourceVersion).toBeGreaterThan(a.resourceVersion);
    const a2 = await store.objects.update(
      { kind: "Team", namespace: "", name: "a" },
      { spec: { x: 3 } },
      a.resourceVersion,
    );
    expect(a2.resourceVersion).toBeGreaterThan(b.resourceVersion);
    expect((await store.objects.get({ kind: "Team", namespace: "", name: "a" }))?.body).toEqual({
      spec: { x: 3 },
    });
  });

  it("refuses an update that names a stale resource version with Conflict", async () => {
    const o = await store.objects.create({ kind: "Team", namespace: "", name: "c" }, "uid-c", {}, 10);
    await store.objects.update({ kind: "Team", namespace: "", name: "c" }, { v: 1 }, o.resourceVersion);
    await expect(
      store.objects.update({ kind: "Team", namespace: "", name: "c" }, { v: 2 }, o.resourceVersion),
    ).rejects.toMatchObject({ code: "Conflict" });
  });

  it("lists objects of one kind across pages and rejects a forged continue token", async () => {
    for (const n of ["x1", "x2", "x3"])
      await store.objects.create({ kind: "Cluster", namespace: "", name: n }, `uid-${n}`, {}, 1);
    const first = await store.objects.list("Cluster", { limit: 2 });
    expect(first.items.map((o) => o.name)).toEqual(["x1", "x2"]);
    const second = await store.objects.list("Cluster", { limit: 2, continue: first.continue as string });
    expect(second.items.map((o) => o.name)).toEqual(["x3"]);
    expect(second.continue).toBeUndefined();
    await expect(store.objects.list("Cluster", { limit: 2, continue: "not-a-token" })).rejects.toMatchObject({
      code: "BadRequest",
    });
  });

  it("deletes objects and reports NotFound for a second delete", async () => {
    await store.objects.create({ kind: "Team", namespace: "", name: "gone" }, "uid-gone", {}, 1);
    await store.objects.delete({ kind: "Team", namespace: "", name: "gone" });
    await expect(store.objects.delete({ kind: "Team", namespace: "", name: "gone" })).rejects.toMatchObject({
      code: "NotFound",
    });
  });

  it("sets a setting only once with setIfAbsent", async () => {
    expect(await store.settings.setIfAbsent("bootstrap", "1")).toBe(true);
    expect(await store.settings.setIfAbsent("bootstrap", "2")).toBe(false);
    expect(await store.settings.get("bootstrap")).toBe("1");
  });
});

describe("opening a database that does not answer", () => {
  it("fails with Unavailable and a message that names the database without its password", async () => {
    const err = await Store.open({ kind: "postgres", url: "postgres://u:secret@127.0.0.1:1/db" }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe("Unavailable");
    expect((err as StoreError).message).toContain("127.0.0.1:1");
    expect((err as StoreError).message).not.toContain("secret");
  });
});
