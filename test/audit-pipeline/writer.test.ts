import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino, type Logger } from "pino";
import { Registry } from "prom-client";
import { Store, type AuditAppend, type CommittedAuditEvent } from "../../src/store/index.js";
import {
  AuditRecorder,
  AuditWriter,
  createAuditMetrics,
  verifyStoredChain,
  type AuditMetrics,
} from "../../src/audit/index.js";
import type { ChainHead, Event } from "../../src/core/audit/index.js";
import { alice, gatewayEvent } from "./events.js";

/** The real store behind a switch that makes it refuse batches, as a database outage does. */
class Outage {
  down = false;
  commits = 0;
  constructor(private readonly store: Store) {}
  async appendCommitted(
    items: readonly AuditAppend[],
  ): Promise<{ head: ChainHead; committed: CommittedAuditEvent[] }> {
    if (this.down) throw new Error("connection refused");
    this.commits++;
    return this.store.audit.appendCommitted(items);
  }
}

function logCapture(): { log: Logger; lines: { level: number; msg: string }[] } {
  const lines: { level: number; msg: string }[] = [];
  const log = pino({ level: "info" }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { log, lines };
}

const item = (
  i: number,
  stage: "RequestReceived" | "ResponseComplete" = "ResponseComplete",
): AuditAppend => ({
  source: "gateway",
  cluster: "c1",
  event: gatewayEvent({ auditID: `w-${i}`, uri: `/api/v1/pods/p${i}`, user: alice, at: Date.now(), stage }),
});

describe("the audit writer", () => {
  let store: Store;
  let sink: Outage;
  let metrics: AuditMetrics;
  let registry: Registry;
  beforeAll(async () => {
    store = await Store.open({
      kind: "sqlite",
      path: join(mkdtempSync(join(tmpdir(), "gh-audit-w-")), "db"),
    });
  });
  afterAll(async () => {
    await store.close();
  });
  beforeEach(async () => {
    await store.db.deleteFrom("audit_events").execute();
    sink = new Outage(store);
    registry = new Registry();
    metrics = createAuditMetrics(registry);
  });
  const dropped = async (reason: string) =>
    (await metrics.dropped.get()).values.find((v) => v.labels["reason"] === reason)?.value ?? 0;

  it("commits a burst in a few group commits and chains it in order", async () => {
    const w = new AuditWriter(sink, {
      maxQueue: 5000,
      maxBatch: 1000,
      log: pino({ level: "silent" }),
      metrics,
    });
    for (let i = 0; i < 2500; i++) expect(w.enqueue(item(i))).toBe(true);
    await w.flush();
    expect(await store.audit.count()).toBe(2500);
    expect(sink.commits).toBeLessThanOrEqual(4);
    const v = await verifyStoredChain(store.audit);
    expect(v).toMatchObject({ ok: true, count: 2500 });
    const first = await store.audit.links(0, 3);
    expect(first.map((l) => (JSON.parse(l.json) as { auditID: string }).auditID)).toEqual([
      "w-0",
      "w-1",
      "w-2",
    ]);
  });

  it("in batch mode lets events arriving one by one wait briefly and share a commit", async () => {
    const w = new AuditWriter(sink, {
      maxQueue: 100,
      maxBatch: 100,
      lingerMs: 30,
      log: pino({ level: "silent" }),
      metrics,
    });
    for (let i = 0; i < 10; i++) {
      w.enqueue(item(i));
      await new Promise((r) => setTimeout(r, 1));
    }
    await w.flush();
    expect(await store.audit.count()).toBe(10);
    expect(sink.commits).toBeLessThanOrEqual(3);
  });

  it("drops what overflows the bound in batch mode without waiting, counts every drop and logs once", async () => {
    const { log, lines } = logCapture();
    const w = new AuditWriter(sink, { maxQueue: 100, maxBatch: 50, log, metrics });
    const accepted = Array.from({ length: 250 }, (_, i) => w.enqueue(item(i))).filter(Boolean).length;
    expect(accepted).toBe(100);
    expect(w.pending).toBe(100);
    await w.flush();
    expect(await store.audit.count()).toBe(100);
    expect(await dropped("queue_full")).toBe(150);
    const warnings = lines.filter((l) => l.msg.startsWith("audit queue"));
    expect(warnings.map((l) => l.msg)).toEqual([
      "audit queue full: dropping events until it drains (counted in gatehouse_audit_events_dropped_total)",
      "audit queue drained: events were dropped while it was full",
    ]);
  });

  it("keeps events through a store outage within the bound and stores them when the store is back", async () => {
    const { log, lines } = logCapture();
    const w = new AuditWriter(sink, {
      maxQueue: 40,
      maxBatch: 10,
      log,
      metrics,
      retryMs: { first: 5, max: 20 },
    });
    sink.down = true;
    for (let i = 0; i < 60; i++) w.enqueue(item(i));
    await new Promise((r) => setTimeout(r, 100));
    expect(w.pending).toBe(40);
    expect(await store.audit.count()).toBe(0);
    expect(lines.filter((l) => l.msg.includes("refused a batch")).length).toBe(1);
    sink.down = false;
    await w.flush();
    expect(await store.audit.count()).toBe(40);
    expect(await dropped("queue_full")).toBe(20);
    expect((await verifyStoredChain(store.audit)).ok).toBe(true);
    expect(lines.some((l) => l.msg === "audit: the store accepts batches again")).toBe(true);
  });

  it("in blocking mode returns only once the event is stored, and goes on when the store is down", async () => {
    const w = new AuditWriter(sink, {
      maxQueue: 10,
      maxBatch: 10,
      log: pino({ level: "silent" }),
      metrics,
      retryMs: { first: 5, max: 5 },
    });
    const r = new AuditRecorder(
      w,
      { mode: "blocking", maxEventBytes: 100 * 1024 },
      pino({ level: "silent" }),
      metrics,
    );
    await r.record(item(1).event, "gateway", "c1");
    expect(await store.audit.count()).toBe(1);
    sink.down = true;
    await expect(r.record(item(2, "RequestReceived").event, "gateway", "c1")).resolves.toBeUndefined();
    sink.down = false;
    await w.flush();
    expect(await store.audit.count()).toBe(2);
  });

  it("in blocking-strict mode fails a RequestReceived event the store cannot take", async () => {
    const w = new AuditWriter(sink, {
      maxQueue: 10,
      maxBatch: 10,
      log: pino({ level: "silent" }),
      metrics,
      retryMs: { first: 5, max: 5 },
    });
    const r = new AuditRecorder(
      w,
      { mode: "blocking-strict", maxEventBytes: 100 * 1024 },
      pino({ level: "silent" }),
      metrics,
    );
    sink.down = true;
    await expect(r.record(item(1, "RequestReceived").event, "gateway", "c1")).rejects.toMatchObject({
      name: "AuditUnavailableError",
    });
    // Later stages never fail the request: the response was already decided.
    await expect(r.record(item(2).event, "gateway", "c1")).resolves.toBeUndefined();
    sink.down = false;
    await w.flush();
  });

  it("in blocking modes makes callers wait for room instead of dropping when the queue is full", async () => {
    const w = new AuditWriter(sink, {
      maxQueue: 5,
      maxBatch: 5,
      log: pino({ level: "silent" }),
      metrics,
      retryMs: { first: 5, max: 5 },
    });
    sink.down = true;
    const waits = Array.from({ length: 12 }, (_, i) => w.enqueueDurable(item(i)).catch(() => "failed"));
    await new Promise((r) => setTimeout(r, 50));
    expect(w.pending).toBe(5);
    sink.down = false;
    await Promise.all(waits);
    await w.flush();
    expect(await store.audit.count()).toBe(12);
    expect(await dropped("queue_full")).toBe(0);
  });

  it("drops bodies of an event over the size limit and marks it truncated, and counts an event too large even so", async () => {
    const w = new AuditWriter(sink, { maxQueue: 10, maxBatch: 10, log: pino({ level: "silent" }), metrics });
    const r = new AuditRecorder(
      w,
      { mode: "batch", maxEventBytes: 2000 },
      pino({ level: "silent" }),
      metrics,
    );
    const big = {
      ...item(1).event,
      level: "RequestResponse" as const,
      responseObject: { data: "x".repeat(5000) },
    };
    await r.record(big, "gateway", "c1");
    const huge = {
      ...item(2).event,
      level: "RequestResponse" as const,
      requestURI: "/" + "y".repeat(5000),
      requestObject: {},
    };
    await r.record(huge, "gateway", "c1");
    await w.flush();
    const stored = (await store.audit.links(0, 10)).map((l) => JSON.parse(l.json) as Event);
    expect(stored.length).toBe(1);
    expect(stored[0]?.responseObject).toBeUndefined();
    expect(stored[0]?.annotations?.["audit.k8s.io/truncated"]).toBe("true");
    expect(await dropped("too_large")).toBe(1);
  });
});
