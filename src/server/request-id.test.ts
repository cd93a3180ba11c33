import { describe, expect, it } from "vitest";
import { RequestIds } from "./request-id.js";

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const T = Date.parse("2026-11-29T03:00:00.123Z");
const msOf = (id: string): number => parseInt(id.replace(/-/g, "").slice(0, 12), 16);

describe("request IDs (UUIDv7)", () => {
  it("are RFC 9562 version 7 with the variant bits set, carrying the clock's milliseconds", () => {
    const ids = new RequestIds(() => T);
    for (let i = 0; i < 100; i++) {
      const id = ids.next();
      expect(id).toMatch(V7);
      expect(msOf(id)).toBe(T);
    }
  });

  it("increase strictly within one millisecond, past the counter's end, and when the clock steps back", () => {
    let now = T;
    const ids = new RequestIds(() => now);
    const seen: string[] = [];
    for (let i = 0; i < 5000; i++) seen.push(ids.next()); // more than 4,096: the counter runs out
    now = T - 2000; // the clock steps back two seconds
    for (let i = 0; i < 10; i++) seen.push(ids.next());
    now = T + 10;
    for (let i = 0; i < 10; i++) seen.push(ids.next());
    expect([...seen].sort()).toEqual(seen);
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of seen) expect(id).toMatch(V7);
    // Running out moves the timestamp on by a millisecond at a time, never far from the clock.
    expect(msOf(seen[4999] as string)).toBeLessThanOrEqual(T + 3);
    expect(msOf(seen.at(-1) as string)).toBe(T + 10);
  });

  it("keep 62 random bits: two generators at the same millisecond do not collide", () => {
    const a = new RequestIds(() => T);
    const b = new RequestIds(() => T);
    const all = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      all.add(a.next());
      all.add(b.next());
    }
    expect(all.size).toBe(4000);
    const tails = new Set([...all].map((id) => id.slice(19)));
    expect(tails.size).toBe(4000);
  });
});
