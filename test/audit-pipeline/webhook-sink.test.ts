import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { pino } from "pino";
import { Registry } from "prom-client";
import {
  createAuditMetrics,
  DEFAULT_WEBHOOK_OPTIONS,
  loadWebhookTarget,
  WebhookSink,
  type AuditMetrics,
  type WebhookSinkOptions,
} from "../../src/audit/index.js";
import type { Event } from "../../src/core/audit/index.js";
import { alice, gatewayEvent } from "./events.js";
import { WebhookReceiver } from "./webhook-receiver.js";

const OPTIONS: WebhookSinkOptions = {
  ...DEFAULT_WEBHOOK_OPTIONS,
  maxBatchSize: 50,
  maxWaitMs: 30,
  qps: 1000,
  burst: 1000,
  initialBackoffMs: 20,
  maxBackoffMs: 80,
  maxQueue: 200,
  maxEventBytes: 4000,
  timeoutMs: 400,
};

const ev = (i: number): Event =>
  gatewayEvent({ auditID: `s-${i}`, uri: `/api/v1/pods/p${i}`, user: alice, at: Date.now() });
const until = async (f: () => boolean, ms = 10_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!f() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  expect(f()).toBe(true);
};

describe("the audit webhook sink", () => {
  let rx: WebhookReceiver;
  let sink: WebhookSink;
  let metrics: AuditMetrics;
  const count = async (c: "sinkSent" | "sinkDropped" | "sinkFailures", reason?: string) =>
    (await metrics[c].get()).values
      .filter((v) => reason === undefined || (v.labels as Record<string, unknown>)["reason"] === reason)
      .reduce((a, v) => a + v.value, 0);

  beforeEach(async () => {
    rx = new WebhookReceiver();
    await rx.start("sink-token-1");
    metrics = createAuditMetrics(new Registry());
    sink = new WebhookSink(
      "webhook",
      loadWebhookTarget(rx.kubeconfig),
      OPTIONS,
      pino({ level: "silent" }),
      metrics,
    );
  });
  afterEach(async () => {
    await sink.close(0);
    await rx.stop();
  });

  it("sends EventList batches of at most the batch size over TLS with the kubeconfig's token, in order", async () => {
    sink.enqueue(Array.from({ length: 120 }, (_, i) => ev(i)));
    // The receiver holds a batch before it answers; the sink counts it once the answer arrives.
    await until(() => rx.events.length === 120 && sink.pending === 0);
    expect(rx.batches.every((b) => b.length <= 50)).toBe(true);
    expect(rx.events.map((e) => e.auditID)).toEqual(Array.from({ length: 120 }, (_, i) => `s-${i}`));
    expect([...rx.tokens]).toEqual(["Bearer sink-token-1"]);
    expect(await count("sinkSent")).toBe(120);
  });

  it("keeps events while the webhook answers 500, bounded by the buffer, and delivers them when it recovers", async () => {
    rx.mode = "error";
    sink.enqueue(Array.from({ length: 150 }, (_, i) => ev(i)));
    sink.enqueue(Array.from({ length: 150 }, (_, i) => ev(150 + i)));
    await until(() => sink.pending === 200);
    await new Promise((r) => setTimeout(r, 200));
    expect(sink.pending).toBe(200);
    expect(await count("sinkDropped", "queue_full")).toBe(100);
    expect(await count("sinkFailures")).toBeGreaterThan(0);
    rx.mode = "ok";
    await until(() => rx.events.length === 200);
    expect(rx.events.map((e) => e.auditID)).toEqual(Array.from({ length: 200 }, (_, i) => `s-${i}`));
  });

  it("retries a webhook that is down until it is back on its address", async () => {
    await rx.stop();
    sink.enqueue([ev(1), ev(2)]);
    await new Promise((r) => setTimeout(r, 200));
    expect(sink.pending).toBe(2);
    await rx.start();
    await until(() => rx.events.length === 2);
  });

  it("treats a webhook slower than the timeout as failed and sends again (at least once)", async () => {
    rx.mode = "slow";
    sink.enqueue([ev(7)]);
    await new Promise((r) => setTimeout(r, 600));
    expect(sink.pending).toBe(1);
    rx.mode = "ok";
    await until(() => sink.pending === 0);
    expect(new Set(rx.events.map((e) => e.auditID))).toEqual(new Set(["s-7"]));
  });

  it("truncates an event over the size limit as Kubernetes does, and counts one too large even so", async () => {
    const big: Event = { ...ev(1), level: "RequestResponse", responseObject: { data: "x".repeat(10_000) } };
    const huge: Event = { ...ev(2), requestURI: "/" + "y".repeat(10_000) };
    sink.enqueue([big, huge, ev(3)]);
    await until(() => rx.events.length === 2);
    expect(rx.events[0]?.responseObject).toBeUndefined();
    expect(rx.events[0]?.annotations?.["audit.k8s.io/truncated"]).toBe("true");
    expect(rx.events[1]?.auditID).toBe("s-3");
    expect(await count("sinkDropped", "too_large")).toBe(1);
  });
});
