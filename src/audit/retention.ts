import type { Logger } from "pino";

/** What retention needs from the store (audit-events.ts). */
export interface Trimmer {
  trim(opts: { before?: number; keep?: number; maxBytes?: number; limit: number }): Promise<number>;
}

export interface RetentionOptions {
  /** Delete events older than this many milliseconds. */
  maxAgeMs?: number;
  /** Keep at most this many events. */
  maxEvents?: number;
  /** Keep at most this many bytes of stored event JSON (the hashed text), deleting the oldest first. */
  maxBytes?: number;
  intervalMs: number;
}

/** Rows per delete transaction: small enough that the writer waits only briefly for each. */
const TRIM_BATCH = 5000;

/**
 * Apply retention by age, by count and by size in small transactions, on a timer, so writers are never held
 * for long. The chain stays verifiable: the last deleted link is kept as the anchor.
 */
export function startRetention(
  store: Trimmer,
  opts: RetentionOptions,
  fx: { log: Logger; now: () => number },
): { runOnce(): Promise<number>; stop(): Promise<void> } {
  let running: Promise<number> | undefined;
  const runOnce = (): Promise<number> =>
    (running ??= (async () => {
      let total = 0;
      for (;;) {
        const n = await store.trim({
          ...(opts.maxAgeMs !== undefined ? { before: fx.now() - opts.maxAgeMs } : {}),
          ...(opts.maxEvents !== undefined ? { keep: opts.maxEvents } : {}),
          ...(opts.maxBytes !== undefined ? { maxBytes: opts.maxBytes } : {}),
          limit: TRIM_BATCH,
        });
        total += n;
        if (n < TRIM_BATCH) break;
        await new Promise((r) => setImmediate(r));
      }
      if (total > 0) fx.log.info({ deleted: total }, "audit retention: deleted old events");
      return total;
    })().finally(() => (running = undefined)));
  const active = opts.maxAgeMs !== undefined || opts.maxEvents !== undefined || opts.maxBytes !== undefined;
  const timer = active
    ? setInterval(() => {
        runOnce().catch((e: unknown) => fx.log.error({ err: e }, "audit retention failed"));
      }, opts.intervalMs)
    : undefined;
  timer?.unref();
  return {
    runOnce,
    stop: async () => {
      if (timer) clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
