import { request as httpsRequest } from "node:https";
import { request as httpRequest } from "node:http";
import type { Logger } from "pino";
import { AUDIT_API_VERSION, truncateEvent, type Event } from "../core/audit/index.js";
import type { AuditMetrics } from "./metrics.js";
import type { WebhookTarget } from "./webhook-target.js";

/** kube-apiserver's webhook backend flags, with its defaults where Gatehouse keeps them. */
export interface WebhookSinkOptions {
  /** --audit-webhook-batch-max-size (400). */
  maxBatchSize: number;
  /** --audit-webhook-batch-max-wait (kube: 30s; Gatehouse: 1s). */
  maxWaitMs: number;
  /** --audit-webhook-batch-throttle-qps (10) and -burst (15). */
  qps: number;
  burst: number;
  /** --audit-webhook-initial-backoff (10s), doubling up to maxBackoffMs. */
  initialBackoffMs: number;
  maxBackoffMs: number;
  /** --audit-webhook-batch-buffer-size (10000): events held at most; more are dropped and counted. */
  maxQueue: number;
  /** --audit-webhook-truncate-max-event-size (100 KiB). */
  maxEventBytes: number;
  timeoutMs: number;
}

export const DEFAULT_WEBHOOK_OPTIONS: WebhookSinkOptions = Object.freeze({
  maxBatchSize: 400,
  maxWaitMs: 1000,
  qps: 10,
  burst: 15,
  initialBackoffMs: 10_000,
  maxBackoffMs: 60_000,
  maxQueue: 10_000,
  maxEventBytes: 100 * 1024,
  timeoutMs: 30_000,
});

/**
 * Send committed events to an audit webhook as kube-apiserver's webhook backend does: EventList
 * batches of at most maxBatchSize, sent when full or maxWait after the first event, throttled by a
 * token bucket, each event truncated (bodies dropped, audit.k8s.io/truncated) over the size limit.
 * A failed batch (no answer, or not 2xx) is retried with exponential backoff and stays at the head
 * of the queue, so nothing is lost while the queue has room. The queue is bounded; what overflows
 * is dropped, counted per sink, and reported once per episode. The store writer never waits for it.
 */
export class WebhookSink {
  private queue: Event[] = [];
  private running: Promise<void> | undefined;
  private closed = false;
  private overflowing = false;
  private failing = false;
  private tokens: number;
  private lastRefill = Date.now();
  private wake: (() => void) | undefined;

  constructor(
    readonly name: string,
    private readonly target: WebhookTarget,
    private readonly opts: WebhookSinkOptions,
    private readonly log: Logger,
    private readonly metrics: AuditMetrics,
  ) {
    this.tokens = opts.burst;
  }

  get pending(): number {
    return this.queue.length;
  }

  enqueue(events: readonly Event[]): void {
    for (const e of events) {
      const t = truncateEvent(e, this.opts.maxEventBytes);
      if (t.kind === "dropped") {
        this.metrics.sinkDropped.inc({ sink: this.name, reason: "too_large" });
        continue;
      }
      if (this.queue.length >= this.opts.maxQueue || this.closed) {
        this.metrics.sinkDropped.inc({ sink: this.name, reason: "queue_full" });
        if (!this.overflowing) {
          this.overflowing = true;
          this.log.warn(
            { sink: this.name, maxQueue: this.opts.maxQueue },
            "audit webhook queue full: dropping events until it drains",
          );
        }
        continue;
      }
      this.queue.push(t.event);
    }
    this.running ??= this.loop().finally(() => (this.running = undefined));
    if (this.queue.length >= this.opts.maxBatchSize) this.wake?.();
  }

  /** Resolve when the queue is empty (every event sent) or `timeoutMs` passed. */
  async drain(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length > 0 && Date.now() < deadline) await sleep(20);
  }

  async close(timeoutMs = 2000): Promise<void> {
    await this.drain(timeoutMs);
    this.closed = true;
    this.wake?.();
    if (this.queue.length > 0)
      this.metrics.sinkDropped.inc({ sink: this.name, reason: "shutdown" }, this.queue.length);
    this.queue = [];
  }

  private async loop(): Promise<void> {
    let backoff = this.opts.initialBackoffMs;
    while (this.queue.length > 0 && !this.closed) {
      if (this.queue.length < this.opts.maxBatchSize) await this.sleepUnlessWoken(this.opts.maxWaitMs);
      if (this.closed) return;
      await this.throttle();
      const batch = this.queue.slice(0, this.opts.maxBatchSize);
      const ok = await this.send(batch);
      if (!ok) {
        this.metrics.sinkFailures.inc({ sink: this.name });
        await this.sleepUnlessWoken(backoff, true);
        backoff = Math.min(backoff * 2, this.opts.maxBackoffMs);
        continue;
      }
      backoff = this.opts.initialBackoffMs;
      this.queue.splice(0, batch.length);
      this.metrics.sinkSent.inc({ sink: this.name }, batch.length);
      if (this.failing) {
        this.failing = false;
        this.log.info({ sink: this.name }, "audit webhook accepts batches again");
      }
      if (this.overflowing && this.queue.length <= this.opts.maxQueue / 2) this.overflowing = false;
    }
  }

  private sleepUnlessWoken(ms: number, onlyClose = false): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      t.unref();
      function done(): void {
        clearTimeout(t);
        resolve();
      }
      this.wake = onlyClose
        ? () => {
            if (this.closed) done();
          }
        : done;
    }).finally(() => (this.wake = undefined));
  }

  /** Token bucket: at most `qps` batches a second after a burst of `burst`. */
  private async throttle(): Promise<void> {
    for (;;) {
      const now = Date.now();
      this.tokens = Math.min(this.opts.burst, this.tokens + ((now - this.lastRefill) / 1000) * this.opts.qps);
      this.lastRefill = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await sleep(Math.ceil(((1 - this.tokens) / this.opts.qps) * 1000));
    }
  }

  private send(items: Event[]): Promise<boolean> {
    const body = JSON.stringify({ kind: "EventList", apiVersion: AUDIT_API_VERSION, metadata: {}, items });
    const u = new URL(this.target.url);
    const t = this.target;
    return new Promise((resolve) => {
      const req = (u.protocol === "https:" ? httpsRequest : httpRequest)(
        u,
        {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "content-length": Buffer.byteLength(body),
            ...(t.token ? { authorization: `Bearer ${t.token}` } : {}),
          },
          ...(t.ca ? { ca: t.ca } : {}),
          ...(t.cert && t.key ? { cert: t.cert, key: t.key } : {}),
          rejectUnauthorized: !t.insecureSkipTLSVerify,
          timeout: this.opts.timeoutMs,
        },
        (res) => {
          res.resume();
          res.on("end", () => resolve(this.result(res.statusCode ?? 0)));
          res.on("error", () => resolve(this.result(0)));
        },
      );
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", (e: NodeJS.ErrnoException) => resolve(this.result(0, e.code ?? e.message)));
      req.end(body);
    });
  }

  private result(code: number, why?: string): boolean {
    const ok = code >= 200 && code < 300;
    if (!ok && !this.failing) {
      this.failing = true;
      this.log.warn(
        { sink: this.name, code, err: why },
        "audit webhook refused a batch; retrying with backoff",
      );
    }
    return ok;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
