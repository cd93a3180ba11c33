import { createHash } from "node:crypto";

/** How long and how many authentication answers a CredentialCache keeps. */
export interface CredentialCacheOptions {
  /**
   * How long an answer may be reused while nothing says it changed. With a store whose change stamp
   * is not shared (PostgreSQL: other replicas' writes do not show in it), this is also how long
   * another replica's revocation can go unseen here; `sharedOnly` turns caching off there instead.
   */
  ttlMs: number;
  /** Most answers kept; the least recently used goes first. */
  maxEntries: number;
  /** Cache only when the change stamp also covers other processes' writes (SQLite). */
  sharedOnly: boolean;
}

export const CREDENTIAL_CACHE_DEFAULTS: Readonly<CredentialCacheOptions> = Object.freeze({
  ttlMs: 5_000,
  maxEntries: 10_000,
  sharedOnly: true,
});

interface Entry<V> {
  value: V;
  stamp: string;
  until: number;
}

/**
 * Successful authentication answers, keyed by a SHA-256 of the credential (the credential itself is
 * never kept), valid while the store's change stamp is unchanged and for at most `ttlMs` (or the
 * credential's own expiry, if sooner). The stamp is read before the lookup that produced an answer:
 * a revocation, a deleted key or a disabled user written while that lookup ran changes the stamp,
 * so the answer is never served. Failures are not cached: a bad credential costs a lookup as before.
 */
export class CredentialCache<V> {
  private readonly entries = new Map<string, Entry<V>>();

  constructor(
    private readonly opts: CredentialCacheOptions,
    private readonly now: () => number,
  ) {}

  /** The key an answer for this credential is kept under. */
  static keyOf(credential: string): string {
    return createHash("sha256").update(credential).digest("base64url");
  }

  /** Whether answers may be kept at all with a stamp of this kind. */
  enabled(shared: boolean): boolean {
    return this.opts.ttlMs > 0 && this.opts.maxEntries > 0 && (shared || !this.opts.sharedOnly);
  }

  /** The answer kept under `key`, if it was kept under this very stamp and has not expired. */
  get(key: string, stamp: string): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.stamp !== stamp || e.until <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    // Most recently used last: Map keeps insertion order.
    this.entries.delete(key);
    this.entries.set(key, e);
    return e.value;
  }

  /** Keep an answer found under `stamp` (read before the lookup), until `expiresAt` at the latest. */
  set(key: string, stamp: string, value: V, expiresAt = Infinity): void {
    const until = Math.min(this.now() + this.opts.ttlMs, expiresAt);
    // An expiry that is not a number (NaN) is never cached.
    if (!(until > this.now())) return;
    this.entries.delete(key);
    this.entries.set(key, { value, stamp, until });
    while (this.entries.size > this.opts.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
