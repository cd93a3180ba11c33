import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Migrator } from "kysely";
import { pino } from "pino";
import { Registry } from "prom-client";
import { Store, type AuditAppend } from "../../src/store/index.js";
import { migrationProvider } from "../../src/store/migrations/index.js";
import { AuditWriter, createAuditMetrics, verifyStoredChain } from "../../src/audit/index.js";
import { startRetention } from "../../src/audit/retention.js";
import { resolveConfig, ConfigError } from "../../src/config/index.js";
import { freshDatabases } from "../harness/databases.js";
import { alice, bob, gatewayEvent } from "./events.js";

const dialects = await freshDatabases();
const T0 = Date.parse("2026-01-01T00:00:00Z");
const silent = pino({ level: "silent" });

/** Events of varied sizes, some with non-ASCII names (more UTF-8 bytes than characters). */
function sample(n: number, from = 0): AuditAppend[] {
  return Array.from({ length: n }, (_, k) => {
    const i = from + k;
    return {
      source: "gateway" as const,
      cluster: "c1",
      event: gatewayEvent({
        auditID: `r-${i}`,
        uri: `/api/v1/namespaces/ns/configmaps/${i % 3 === 0 ? "größe-" : "cm-"}${"x".repeat(i % 40)}${i}`,
        user: i % 2 ? alice : bob,
        at: T0 + i * 1000,
      }),
    };
  });
}

/** Bytes of the stored event JSON, counted the slow way: what a size limit must agree with. */
async function sumOfStored(store: Store): Promise<number> {
  const rows = await store.db.selectFrom("audit_events").select("event").execute();
  return rows.reduce((a, r) => a + Buffer.byteLength(r.event, "utf8"), 0);
}

const seqs = async (store: Store): Promise<number[]> =>
  (await store.db.selectFrom("audit_events").select("seq").orderBy("seq").execute()).map((r) =>
    Number(r.seq),
  );

describe.each(dialects)("retention by size on $name", ({ location }) => {
  let n = 0;
  const open = async (): Promise<Store> =>
    Store.open(location.kind === "sqlite" ? { ...location, path: `${location.path}.${n++}` } : location);
  let store: Store;
  beforeAll(async () => {
    store = await open();
  });
  afterAll(async () => {
    await store.close();
  });

  const reset = async (events: number): Promise<void> => {
    await store.db.deleteFrom("audit_events").execute();
    await store.db.deleteFrom("settings").where("key", "=", "audit.chain.anchor").execute();
    await store.audit.append(sample(events).slice(0, 17));
    await store.audit.append(sample(events).slice(17));
  };

  it("counts the stored bytes as the UTF-8 bytes of the stored JSON, without reading the events", async () => {
    await reset(40);
    expect(await store.audit.storedBytes()).toBe(await sumOfStored(store));
    // Non-ASCII names make bytes and characters differ, so a count of characters would be caught.
    const rows = await store.db.selectFrom("audit_events").select("event").execute();
    expect(rows.reduce((a, r) => a + r.event.length, 0)).toBeLessThan(await sumOfStored(store));
  });

  it("deletes the oldest events until the rest fit, in batches of at most `limit`, keeping the chain verifiable", async () => {
    await reset(40);
    const all = await sumOfStored(store);
    const max = Math.floor(all / 3);
    let deleted = 0;
    let calls = 0;
    for (let d = -1; d !== 0; calls++) {
      d = await store.audit.trim({ maxBytes: max, limit: 4 });
      expect(d).toBeLessThanOrEqual(4);
      deleted += d;
    }
    expect(calls).toBeGreaterThan(2);
    const kept = await seqs(store);
    expect(kept.length).toBe(40 - deleted);
    // The newest events are kept, contiguous up to the head; they fit, and one more would not.
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => 40 - kept.length + i));
    const bytes = await sumOfStored(store);
    expect(bytes).toBeLessThanOrEqual(max);
    expect(await store.audit.storedBytes()).toBe(bytes);
    const oldestKept = kept[0] as number;
    const previous = sample(40)[oldestKept - 1] as AuditAppend;
    expect(bytes + Buffer.byteLength(JSON.stringify(previous.event))).toBeGreaterThan(max);
    expect(await verifyStoredChain(store.audit)).toMatchObject({
      ok: true,
      count: kept.length,
      head: { seq: 39 },
    });
    // Nothing more to delete: another run is a no-op.
    expect(await store.audit.trim({ maxBytes: max, limit: 4 })).toBe(0);
  });

  it("continues the byte count across the anchor when the writer appends after retention", async () => {
    await reset(30);
    await store.audit.trim({ maxBytes: 1, limit: 100 });
    expect(await store.audit.count()).toBe(0);
    expect(await store.audit.storedBytes()).toBe(0);
    await store.audit.append(sample(10, 30));
    expect(await store.audit.storedBytes()).toBe(await sumOfStored(store));
    expect(await verifyStoredChain(store.audit)).toMatchObject({ ok: true, count: 10, head: { seq: 39 } });
  });

  it("combines size with age and count: whichever cuts more wins", async () => {
    await reset(30);
    const all = await sumOfStored(store);
    // Count says keep 25, size says keep about half: size wins.
    while ((await store.audit.trim({ keep: 25, maxBytes: Math.floor(all / 2), limit: 1000 })) > 0);
    expect(await sumOfStored(store)).toBeLessThanOrEqual(all / 2);
    expect(await store.audit.count()).toBeLessThan(25);
    // Age says everything before T0 + 25 s goes: age wins over a size limit already met.
    await store.audit.trim({ before: T0 + 25_000, maxBytes: all, limit: 1000 });
    expect(await seqs(store)).toEqual([25, 26, 27, 28, 29]);
    expect(await verifyStoredChain(store.audit)).toMatchObject({ ok: true, count: 5 });
  });

  it("keeps the store within the limit while a writer appends concurrently, losing and forking nothing", async () => {
    await reset(0);
    const w = new AuditWriter(store.audit, {
      maxQueue: 100_000,
      maxBatch: 50,
      log: silent,
      metrics: createAuditMetrics(new Registry()),
    });
    const max = 40_000;
    const retention = startRetention(
      store.audit,
      { maxBytes: max, intervalMs: 3_600_000 },
      { log: silent, now: () => Date.now() },
    );
    const total = 1500;
    let deleted = 0;
    const writing = (async () => {
      for (let i = 0; i < total; i += 25) {
        for (const it of sample(25, i)) expect(w.enqueue(it)).toBe(true);
        await new Promise((r) => setImmediate(r));
      }
      await w.flush();
    })();
    let runs = 0;
    let done = false;
    void writing.then(() => (done = true));
    while (!done) {
      deleted += await retention.runOnce();
      runs++;
      await new Promise((r) => setTimeout(r, 2));
    }
    await writing;
    deleted += await retention.runOnce();
    await retention.stop();
    await w.close();
    expect(runs).toBeGreaterThan(1);
    expect(deleted).toBeGreaterThan(0);
    const kept = await seqs(store);
    // Every event was committed exactly once, in one chain: what was not deleted is the newest suffix.
    expect(kept.length + deleted).toBe(total);
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => total - kept.length + i));
    expect(await sumOfStored(store)).toBeLessThanOrEqual(max);
    expect(await store.audit.storedBytes()).toBe(await sumOfStored(store));
    expect(await verifyStoredChain(store.audit)).toMatchObject({
      ok: true,
      count: kept.length,
      head: { seq: total - 1 },
    });
  });

  it("numbers the events of an existing database when the migration adds the byte totals", async () => {
    const s = await open();
    try {
      await s.db.deleteFrom("audit_events").execute();
      await s.db.deleteFrom("settings").where("key", "=", "audit.chain.anchor").execute();
      await s.audit.append(sample(20));
      // An anchor from before the migration has no byte total.
      await s.audit.trim({ keep: 15, limit: 100 });
      const a = await s.db
        .selectFrom("settings")
        .select("value")
        .where("key", "=", "audit.chain.anchor")
        .executeTakeFirstOrThrow();
      const { seq, hash } = JSON.parse(a.value) as { seq: number; hash: string };
      await s.db
        .updateTable("settings")
        .set({ value: JSON.stringify({ seq, hash }) })
        .where("key", "=", "audit.chain.anchor")
        .execute();
      const migrator = new Migrator({ db: s.db, provider: migrationProvider });
      const down = await migrator.migrateTo("0004-saml-replay");
      expect(down.error).toBeUndefined();
      await s.migrate();
      // Stored rows are not rewritten: only the newest carries the total of them all.
      const totals = await s.db.selectFrom("audit_events").select("bytes_end").orderBy("seq").execute();
      expect(totals.map((r) => r.bytes_end)).toEqual([...Array<null>(14).fill(null), await sumOfStored(s)]);
      expect(await s.audit.storedBytes()).toBe(await sumOfStored(s));
      await s.audit.append(sample(5, 20));
      expect(await s.audit.storedBytes()).toBe(await sumOfStored(s));
      // Size retention through the old rows, a few at a time, then an age cut: totals stay exact.
      const max = Math.floor((await sumOfStored(s)) / 2);
      while ((await s.audit.trim({ maxBytes: max, limit: 3 })) > 0)
        expect(await s.audit.storedBytes()).toBe(await sumOfStored(s));
      expect(await sumOfStored(s)).toBeLessThanOrEqual(max);
      const kept = await seqs(s);
      expect(kept.length).toBeGreaterThan(1);
      await s.audit.trim({ before: T0 + ((kept[0] as number) + 1) * 1000, limit: 100 });
      expect(await s.audit.storedBytes()).toBe(await sumOfStored(s));
      expect(await verifyStoredChain(s.audit)).toMatchObject({ ok: true, head: { seq: 24 } });
    } finally {
      await s.close();
    }
  });
});

describe("the audit size limit in the configuration", () => {
  const resolve = (auditMaxSize: unknown) =>
    resolveConfig([
      { name: "flags", settings: { dataDir: mkdtempSync(join(tmpdir(), "gh-audit-size-")), auditMaxSize } },
    ]).audit.retention.maxBytes;

  it("reads bytes, decimal and binary suffixes as Kubernetes quantities write them", () => {
    expect(resolve("1048576")).toBe(1_048_576);
    expect(resolve(4096)).toBe(4096);
    expect(resolve("500M")).toBe(500_000_000);
    expect(resolve("20Gi")).toBe(20 * 2 ** 30);
    expect(resolve("3k")).toBe(3000);
    expect(resolve("2Ti")).toBe(2 * 2 ** 40);
  });

  it("refuses a size that is not one, naming the setting and where it came from", () => {
    for (const bad of ["ten", "0", "20GB", "-5", "1.5Gi", ""]) {
      let err: unknown;
      try {
        resolve(bad);
      } catch (e) {
        err = e;
      }
      expect(err, bad).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toContain("auditMaxSize (from flags): expected a size in bytes");
    }
  });
});
