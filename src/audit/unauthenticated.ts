import type { Logger } from "pino";
import type { AuditMetrics } from "./metrics.js";

/**
 * The flood guard for failed-authentication events. kube-apiserver records every 401 it answers;
 * behind an internet-facing gateway that lets anyone without a credential fill the audit store. So
 * each source (an IPv4 address, or an IPv6 /64, which one client usually holds whole) gets a token
 * bucket, and all sources together another; a 401 beyond them is answered as always but not
 * recorded. Suppressed requests are counted in gatehouse_audit_unauthenticated_requests_total
 * {outcome="suppressed"}, and the next event recorded for that source carries how many were
 * suppressed before it (annotation gatehouse.io/unauthenticated-suppressed), so the store still
 * shows the size of a flood.
 */
export interface UnauthenticatedLimits {
  /** Events per source per minute, sustained. */
  perSourcePerMinute: number;
  /** Events a source may have recorded at once before the rate applies. */
  perSourceBurst: number;
  /** Events per second from all sources together. */
  globalPerSecond: number;
  /** Sources remembered at most (oldest forgotten first): bounds memory under address rotation. */
  maxSources: number;
}

export const DEFAULT_UNAUTHENTICATED_LIMITS: UnauthenticatedLimits = Object.freeze({
  perSourcePerMinute: 60,
  perSourceBurst: 20,
  globalPerSecond: 100,
  maxSources: 10_000,
});

export const SUPPRESSED_ANNOTATION = "gatehouse.io/unauthenticated-suppressed";

interface Bucket {
  tokens: number;
  at: number;
  suppressed: number;
}

export type Admission = { record: true; suppressedBefore: number } | { record: false };

export class UnauthenticatedLimiter {
  private readonly sources = new Map<string, Bucket>();
  private readonly global: Bucket;
  private flooding = false;
  readonly limits: UnauthenticatedLimits;

  constructor(
    limits: UnauthenticatedLimits | undefined,
    private readonly now: () => number,
    private readonly metrics: AuditMetrics,
    private readonly log: Logger,
  ) {
    this.limits = limits ?? DEFAULT_UNAUTHENTICATED_LIMITS;
    this.global = { tokens: this.limits.globalPerSecond, at: now(), suppressed: 0 };
  }

  /** Whether to record the 401 answered to this address now. */
  admit(ip: string): Admission {
    const t = this.now();
    const key = sourceKey(ip);
    let b = this.sources.get(key);
    if (!b) {
      if (this.sources.size >= this.limits.maxSources) {
        const oldest = this.sources.keys().next().value;
        if (oldest !== undefined) this.sources.delete(oldest);
      }
      b = { tokens: this.limits.perSourceBurst, at: t, suppressed: 0 };
      this.sources.set(key, b);
    }
    refill(b, t, this.limits.perSourcePerMinute / 60_000, this.limits.perSourceBurst);
    refill(this.global, t, this.limits.globalPerSecond / 1000, this.limits.globalPerSecond);
    if (b.tokens < 1 || this.global.tokens < 1) {
      b.suppressed++;
      this.metrics.unauthenticated.inc({ outcome: "suppressed" });
      if (!this.flooding) {
        this.flooding = true;
        this.log.warn(
          { source: key },
          "audit: failed authentications beyond the flood guard are not recorded (counted in gatehouse_audit_unauthenticated_requests_total)",
        );
      }
      return { record: false };
    }
    b.tokens -= 1;
    this.global.tokens -= 1;
    const suppressedBefore = b.suppressed;
    b.suppressed = 0;
    if (this.flooding && this.global.tokens >= this.limits.globalPerSecond / 2) this.flooding = false;
    this.metrics.unauthenticated.inc({ outcome: "recorded" });
    return { record: true, suppressedBefore };
  }
}

function refill(b: Bucket, t: number, perMs: number, max: number): void {
  b.tokens = Math.min(max, b.tokens + Math.max(0, t - b.at) * perMs);
  b.at = t;
}

/** An IPv4 address as is (also when IPv4-mapped), an IPv6 address as its /64. */
export function sourceKey(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1] as string;
  if (!ip.includes(":")) return ip;
  const [head = "", tail] = ip.toLowerCase().split("::");
  const h = head === "" ? [] : head.split(":");
  const rest = tail === undefined ? [] : tail === "" ? [] : tail.split(":");
  const groups =
    tail === undefined ? h : [...h, ...Array<string>(8 - h.length - rest.length).fill("0"), ...rest];
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}
