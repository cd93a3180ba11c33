import { describe, expect, it } from "vitest";
import { CredentialCache } from "./credential-cache.js";

const OPTS = { ttlMs: 5_000, maxEntries: 3, sharedOnly: true };

function cacheAt(start = 1_000_000): { cache: CredentialCache<string>; advance: (ms: number) => void } {
  let t = start;
  return { cache: new CredentialCache<string>(OPTS, () => t), advance: (ms) => (t += ms) };
}

describe("CredentialCache", () => {
  it("answers under the stamp it was kept with, and forgets the answer once the stamp changed", () => {
    const { cache } = cacheAt();
    cache.set("k", "s1", "alice");
    expect(cache.get("k", "s1")).toBe("alice");
    expect(cache.get("k", "s2")).toBeUndefined();
    // Gone for good: going back to the old stamp does not revive it.
    expect(cache.get("k", "s1")).toBeUndefined();
  });

  it("expires an answer after the TTL on the injected clock", () => {
    const { cache, advance } = cacheAt();
    cache.set("k", "s", "alice");
    advance(4_999);
    expect(cache.get("k", "s")).toBe("alice");
    advance(1);
    expect(cache.get("k", "s")).toBeUndefined();
  });

  it("never keeps an answer past the credential's own expiry", () => {
    const { cache, advance } = cacheAt(1_000_000);
    cache.set("k", "s", "alice", 1_001_000);
    advance(999);
    expect(cache.get("k", "s")).toBe("alice");
    advance(1);
    expect(cache.get("k", "s")).toBeUndefined();
    cache.set("gone", "s", "bob", 1_000_000);
    expect(cache.get("gone", "s")).toBeUndefined();
    cache.set("nan", "s", "carol", Number.NaN);
    expect(cache.get("nan", "s")).toBeUndefined();
  });

  it("holds at most maxEntries, dropping the least recently used first", () => {
    const { cache } = cacheAt();
    cache.set("a", "s", "A");
    cache.set("b", "s", "B");
    cache.set("c", "s", "C");
    expect(cache.get("a", "s")).toBe("A"); // a is now the most recently used
    cache.set("d", "s", "D");
    expect(cache.size).toBe(3);
    expect(cache.get("b", "s")).toBeUndefined();
    expect(["a", "c", "d"].map((k) => cache.get(k, "s"))).toEqual(["A", "C", "D"]);
  });

  it("is off when the TTL or the size is 0, and for unshared stamps when sharedOnly", () => {
    const t = (): number => 0;
    expect(new CredentialCache(OPTS, t).enabled(true)).toBe(true);
    expect(new CredentialCache(OPTS, t).enabled(false)).toBe(false);
    expect(new CredentialCache({ ...OPTS, sharedOnly: false }, t).enabled(false)).toBe(true);
    expect(new CredentialCache({ ...OPTS, ttlMs: 0 }, t).enabled(true)).toBe(false);
    expect(new CredentialCache({ ...OPTS, maxEntries: 0 }, t).enabled(true)).toBe(false);
  });

  it("keys answers by a hash of the credential, never the credential itself", () => {
    const key = CredentialCache.keyOf("ghk.bmFtZQ.secret");
    expect(key).not.toContain("secret");
    expect(key).toBe(CredentialCache.keyOf("ghk.bmFtZQ.secret"));
    expect(key).not.toBe(CredentialCache.keyOf("ghk.bmFtZQ.secreT"));
  });
});
