/**
 * Brute-force throttling for password sign-in: failures are counted per user name and per source
 * address in a sliding window; over the limit, sign-in is refused without checking the password
 * until the window has passed. Success clears the user's count (not the address's).
 */
export interface ThrottleOptions {
  windowMs: number;
  maxFailuresPerUser: number;
  maxFailuresPerAddress: number;
}

export const THROTTLE_DEFAULTS: ThrottleOptions = {
  windowMs: 5 * 60_000,
  maxFailuresPerUser: 5,
  maxFailuresPerAddress: 20,
};

export type ThrottleVerdict =
  { kind: "allowed" } | { kind: "throttled"; by: "user" | "address"; retryAfterMs: number };

export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly now: () => number,
    private readonly opts: ThrottleOptions = THROTTLE_DEFAULTS,
  ) {}

  check(user: string, address: string): ThrottleVerdict {
    const t = this.now();
    const u = this.recent(`u:${user}`, t);
    if (u.length >= this.opts.maxFailuresPerUser)
      return { kind: "throttled", by: "user", retryAfterMs: (u[0] ?? t) + this.opts.windowMs - t };
    const a = this.recent(`a:${address}`, t);
    if (a.length >= this.opts.maxFailuresPerAddress)
      return { kind: "throttled", by: "address", retryAfterMs: (a[0] ?? t) + this.opts.windowMs - t };
    return { kind: "allowed" };
  }

  fail(user: string, address: string): void {
    const t = this.now();
    for (const k of [`u:${user}`, `a:${address}`]) this.failures.set(k, [...this.recent(k, t), t]);
    if (this.failures.size > 100_000) this.failures.clear();
  }

  succeed(user: string): void {
    this.failures.delete(`u:${user}`);
  }

  private recent(key: string, t: number): number[] {
    return (this.failures.get(key) ?? []).filter((x) => x > t - this.opts.windowMs);
  }
}

/** At most `max` events per key in a sliding window: anonymous endpoints that create state use it per address. */
export class RateLimit {
  private readonly events = new Map<string, number[]>();

  constructor(
    private readonly now: () => number,
    private readonly max: number,
    private readonly windowMs: number,
  ) {}

  /** Record an event for `key`; false (and nothing recorded) when the key is over its limit. */
  take(key: string): boolean {
    const t = this.now();
    const recent = (this.events.get(key) ?? []).filter((x) => x > t - this.windowMs);
    if (recent.length >= this.max) return false;
    if (this.events.size > 100_000) this.events.clear();
    this.events.set(key, [...recent, t]);
    return true;
  }
}
