import type { Logger } from "pino";
import type { AuditAppend, CommittedAuditEvent } from "../store/index.js";
import type { ChainHead } from "../core/audit/index.js";
import type { AuditMetrics } from "./metrics.js";

/** What the writer needs from the store: the group commit of audit-events.ts. */
export interface AuditAppender {
  /** `next`: the events queued behind this batch, which the store may serialise while it commits. */
  appendCommitted(
    items: readonly AuditAppend[],
    next?: readonly AuditAppend[],
  ): Promise<{ head: ChainHead; committed: CommittedAuditEvent[] }>;
}

export interface WriterOptions {
  /** Most events held in memory; beyond it batch-mode events are dropped (and counted). */
  maxQueue: number;
  /** Most events per transaction. */
  maxBatch: number;
  log: Logger;
  metrics: AuditMetrics;
  /** Waits between retries of a failed commit, doubling from the first to the last. */
  retryMs?: { first: number; max: number };
  sleep?: (ms: number) => Promise<void>;
  /**
   * How long a batch of events nobody waits for may wait for more before it is committed (batch mode
   * under load: fewer, larger commits). Events a request waits on are committed at once.
   */
  lingerMs?: number;
  /**
   * Called with each committed batch, in chain order, with the stored JSON of each event: the sinks
   * after the store. It must not block; sinks keep their own bounded queues.
   */
  onCommitted?: (events: CommittedAuditEvent[]) => void;
}

interface Pending {
  item: AuditAppend;
  /** Set for events a request waits on (blocking modes). */
  settle?: (err?: Error) => void;
}

/** The store refused or could not take an event a request is waiting for. */
export class AuditUnavailableError extends Error {
  constructor(cause: unknown) {
    super("the audit store is unavailable", { cause });
    this.name = "AuditUnavailableError";
  }
}

/**
 * The one writer of the audit chain: a bounded in-memory queue drained by a single loop. Each turn
 * takes everything queued (up to maxBatch) and commits it in one transaction that also hash-chains
 * it: group commit, so durability costs one commit per batch however many requests wait on it, and
 * hashing stays off the request path. A failed commit is retried with backoff; the batch is kept at
 * the head of the queue, so nothing is lost unless the queue overflows, which is counted and
 * reported once per episode (never per event).
 */
export class AuditWriter {
  private queue: Pending[] = [];
  private draining: Promise<void> | undefined;
  private closed = false;
  private overflowing = false;
  private droppedInEpisode = 0;
  private unavailable = false;
  private spaceWaiters: (() => void)[] = [];
  private idleWaiters: (() => void)[] = [];
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly store: AuditAppender,
    private readonly opts: WriterOptions,
  ) {
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms).unref()));
  }

  /** Queue an event without waiting (batch mode). False when it was dropped because the queue is full. */
  enqueue(item: AuditAppend): boolean {
    if (this.queue.length >= this.opts.maxQueue || this.closed) {
      this.drop();
      return false;
    }
    this.queue.push({ item });
    this.kick();
    return true;
  }

  /**
   * Queue an event and resolve once it is committed (blocking modes). A full queue makes the caller
   * wait for room instead of dropping; a failed commit rejects with AuditUnavailableError (the event
   * stays queued and is retried).
   */
  async enqueueDurable(item: AuditAppend): Promise<void> {
    while (this.queue.length >= this.opts.maxQueue && !this.closed)
      await new Promise<void>((r) => this.spaceWaiters.push(r));
    if (this.closed) throw new AuditUnavailableError(new Error("audit writer closed"));
    await new Promise<void>((resolve, reject) => {
      this.queue.push({
        item,
        settle: (err) => (err ? reject(new AuditUnavailableError(err)) : resolve()),
      });
      this.kick();
    });
  }

  /** Events waiting in memory. */
  get pending(): number {
    return this.queue.length;
  }

  /** Resolve when everything queued so far is committed (or the writer gave up on it at close). */
  async flush(): Promise<void> {
    while (this.queue.length > 0 || this.draining) {
      await new Promise<void>((r) => this.idleWaiters.push(r));
    }
  }

  /** Stop taking events and commit what is queued, trying for at most `timeoutMs`. */
  async close(timeoutMs = 5000): Promise<void> {
    this.closed = true;
    for (const w of this.spaceWaiters.splice(0)) w();
    await Promise.race([this.flush(), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
    const left = this.queue.splice(0);
    if (left.length > 0) {
      this.opts.metrics.dropped.inc({ reason: "shutdown" }, left.length);
      this.opts.log.error({ events: left.length }, "audit: events not committed at shutdown");
      for (const p of left) p.settle?.(new Error("audit writer closed"));
    }
  }

  private drop(): void {
    this.opts.metrics.dropped.inc({ reason: "queue_full" });
    this.droppedInEpisode++;
    if (!this.overflowing) {
      this.overflowing = true;
      this.opts.log.warn(
        { maxQueue: this.opts.maxQueue },
        "audit queue full: dropping events until it drains (counted in gatehouse_audit_events_dropped_total)",
      );
    }
  }

  private kick(): void {
    this.opts.metrics.queued.set(this.queue.length);
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
      if (this.queue.length > 0 && !this.closed) this.kick();
      else for (const w of this.idleWaiters.splice(0)) w();
    });
  }

  private async drain(): Promise<void> {
    const retry = this.opts.retryMs ?? { first: 50, max: 5000 };
    let wait = retry.first;
    while (this.queue.length > 0) {
      const linger = this.opts.lingerMs ?? 0;
      if (
        linger > 0 &&
        this.queue.length < this.opts.maxBatch &&
        !this.closed &&
        !this.queue.some((p) => p.settle)
      )
        await this.sleep(linger);
      const batch = this.queue.slice(0, this.opts.maxBatch);
      const end = this.opts.metrics.commitSeconds.startTimer();
      let committed: CommittedAuditEvent[];
      try {
        const next = this.queue.slice(batch.length, batch.length + this.opts.maxBatch).map((p) => p.item);
        ({ committed } = await this.store.appendCommitted(
          batch.map((p) => p.item),
          next,
        ));
      } catch (e) {
        end();
        this.opts.metrics.failedCommits.inc();
        if (!this.unavailable) {
          this.unavailable = true;
          this.opts.log.error({ err: e }, "audit: the store refused a batch; retrying with backoff");
        }
        for (const p of batch) {
          p.settle?.(e instanceof Error ? e : new Error(String(e)));
          delete p.settle;
        }
        if (this.closed) return;
        await this.sleep(wait);
        wait = Math.min(wait * 2, retry.max);
        continue;
      }
      end();
      wait = retry.first;
      if (this.unavailable) {
        this.unavailable = false;
        this.opts.log.info("audit: the store accepts batches again");
      }
      this.queue.splice(0, batch.length);
      this.opts.metrics.stored.inc(batch.length);
      this.opts.metrics.batchSize.observe(batch.length);
      this.opts.metrics.queued.set(this.queue.length);
      for (const p of batch) p.settle?.();
      try {
        this.opts.onCommitted?.(committed);
      } catch (e) {
        // A sink's fault never stops the chain writer; sinks count their own failures.
        this.opts.log.error({ err: e }, "audit: a sink failed to take committed events");
      }
      for (const w of this.spaceWaiters.splice(0)) w();
      if (this.overflowing && this.queue.length <= this.opts.maxQueue / 2) {
        this.opts.log.warn(
          { dropped: this.droppedInEpisode },
          "audit queue drained: events were dropped while it was full",
        );
        this.overflowing = false;
        this.droppedInEpisode = 0;
      }
    }
  }
}
