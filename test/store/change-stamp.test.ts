import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Store } from "../../src/store/index.js";

/**
 * Store.changeStamp on SQLite (migration 0006-change-stamp): what another connection writes to the
 * same file changes it only when an authentication answer could change (a user; an access key's
 * existence, secret or spec), not for writes that leave those alone (a key's status.lastUsed, other
 * kinds, other tables such as the audit events the audit writer commits on its own connection).
 */
describe("the change stamp on SQLite, as another connection writes", () => {
  const KEY = { kind: "AccessKey", namespace: "", name: "ci" };
  let path: string;
  let here: Store;
  let other: Store;
  const stamp = () => here.changeStamp(KEY).stamp;

  beforeAll(async () => {
    path = join(mkdtempSync(join(tmpdir(), "gh-stamp-")), "db");
    here = await Store.open({ kind: "sqlite", path });
    // A second store on the same file: another connection, as a second process or a CLI would be.
    other = await Store.open({ kind: "sqlite", path });
    await other.users.create({
      name: "ci-bot",
      uid: "u-1",
      passwordHash: null,
      disabled: false,
      groups: ["ci"],
      createdAt: 1,
      updatedAt: 1,
    });
    await other.objects.create(KEY, "k-1", { secretHash: "a".repeat(64), spec: { user: "ci-bot" } }, 1);
  });
  afterAll(async () => {
    await other?.close();
    await here?.close();
  });

  it("is shared (other processes' writes show in it) and stable while nothing relevant is written", () => {
    expect(here.changeStamp(KEY).shared).toBe(true);
    expect(stamp()).toBe(stamp());
  });

  it("does not change for a key's lastUsed, another kind's write, or other tables' commits", async () => {
    const before = stamp();
    const row = await other.objects.get(KEY);
    await other.objects.update(KEY, { ...row?.body, status: { lastUsed: "2026-11-29T00:00:00Z" } });
    await other.objects.create({ kind: "Team", namespace: "", name: "t" }, "t-1", { spec: {} }, 2);
    await other.settings.set("probe", "1"); // a commit to another table, as the audit writer's are
    expect(stamp()).toBe(before);
  });

  it("changes when another connection changes a key's spec or secret, deletes it, or writes a user", async () => {
    let before = stamp();
    const row = await other.objects.get(KEY);
    await other.objects.update(KEY, { ...row?.body, spec: { user: "ci-bot", clusters: ["dev"] } });
    expect(stamp()).not.toBe(before);

    before = stamp();
    const again = await other.objects.get(KEY);
    await other.objects.update(KEY, { ...again?.body, secretHash: "b".repeat(64) });
    expect(stamp()).not.toBe(before);

    before = stamp();
    await other.users.update("ci-bot", { disabled: true }, 3);
    expect(stamp()).not.toBe(before);

    before = stamp();
    await other.objects.delete(KEY);
    expect(stamp()).not.toBe(before);
  });
});
