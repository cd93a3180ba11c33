import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { chainNext, GENESIS, linkHash, verifyChain, type ChainLink } from "./chain.js";
import type { Event } from "./types.js";

function event(i: number): Event {
  return {
    kind: "Event",
    apiVersion: "audit.k8s.io/v1",
    level: "Metadata",
    auditID: `id-${i}`,
    stage: "ResponseComplete",
    requestURI: `/api/v1/namespaces/ns/pods/p${i}`,
    verb: "get",
    user: { username: "alice", groups: ["dev"] },
    requestReceivedTimestamp: "2024-05-01T10:00:00.000000Z",
    stageTimestamp: "2024-05-01T10:00:00.000001Z",
  };
}

function chain(n: number): ChainLink[] {
  const out: ChainLink[] = [];
  let head = GENESIS;
  for (let i = 0; i < n; i++) {
    const l = chainNext(head, JSON.stringify(event(i)));
    out.push(l);
    head = { seq: l.seq, hash: l.hash };
  }
  return out;
}

/** A link whose stored JSON was edited (the parsed event changed and written back). */
function edited(l: ChainLink, change: (e: Event) => Event): ChainLink {
  return { ...l, json: JSON.stringify(change(JSON.parse(l.json) as Event)) };
}

describe("linkHash", () => {
  it("hashes the stored bytes: prevHash, seq and the JSON text, nothing re-serialised", () => {
    const json = JSON.stringify(event(0));
    const h = linkHash(GENESIS.hash, 0, json);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(linkHash(GENESIS.hash, 0, json)).toBe(h);
    // The same data with other key order or whitespace is other bytes: the stored text is what counts.
    expect(linkHash(GENESIS.hash, 0, JSON.stringify(JSON.parse(json), null, 1))).not.toBe(h);
    expect(linkHash(GENESIS.hash, 1, json)).not.toBe(h);
    expect(linkHash("1".repeat(64), 0, json)).not.toBe(h);
  });
  it("hashes UTF-8 bytes, so non-ASCII text is covered exactly", () => {
    const a = JSON.stringify({ ...event(0), requestURI: "/api/v1/namespaces/ü" });
    const b = JSON.stringify({ ...event(0), requestURI: "/api/v1/namespaces/u" });
    expect(linkHash(GENESIS.hash, 0, a)).not.toBe(linkHash(GENESIS.hash, 0, b));
  });
});

describe("verifyChain", () => {
  it("accepts an intact chain and reports its head", () => {
    const c = chain(5);
    expect(verifyChain(c)).toEqual({ ok: true, head: { seq: 4, hash: c[4]?.hash }, count: 5 });
    expect(verifyChain([])).toEqual({ ok: true, head: GENESIS, count: 0 });
  });

  it("reports a stored text changed without changing its data (re-serialised) as altered", () => {
    const c = chain(3);
    c[1] = { ...(c[1] as ChainLink), json: JSON.stringify(JSON.parse((c[1] as ChainLink).json), null, 2) };
    expect(verifyChain(c)).toMatchObject({ ok: false, index: 1, problem: "altered" });
  });

  it("detects an altered event at its position", () => {
    const c = chain(5);
    c[2] = edited(c[2] as ChainLink, (e) => ({ ...e, verb: "delete" }));
    expect(verifyChain(c)).toMatchObject({ ok: false, index: 2, problem: "altered" });
  });

  it("detects an altered event whose hash was recomputed, at that event", () => {
    const c = chain(5);
    const l = c[1] as ChainLink;
    const forged = chainNext(
      { seq: l.seq - 1, hash: l.prevHash },
      JSON.stringify({ ...(JSON.parse(l.json) as Event), user: { username: "mallory" } }),
    );
    c[1] = forged;
    expect(verifyChain(c)).toMatchObject({ ok: false, index: 1, problem: "altered" });
  });

  it("detects a removed event", () => {
    const c = chain(5);
    c.splice(3, 1);
    expect(verifyChain(c)).toMatchObject({ ok: false, index: 3, problem: "removed" });
    const first = chain(3).slice(1);
    expect(verifyChain(first)).toMatchObject({ ok: false, index: 0, problem: "removed" });
  });

  it("detects removal at the end only against a trusted head", () => {
    const c = chain(5);
    const head = { seq: 4, hash: (c[4] as ChainLink).hash };
    expect(verifyChain(c.slice(0, 3)).ok).toBe(true);
    expect(verifyChain(c.slice(0, 3), { head })).toMatchObject({ ok: false, index: 3, problem: "removed" });
  });

  it("detects reordered events", () => {
    const c = chain(5);
    [c[1], c[2]] = [c[2] as ChainLink, c[1] as ChainLink];
    expect(verifyChain(c)).toMatchObject({ ok: false, index: 1, problem: "reordered" });
  });

  it("detects a consistently rewritten suffix against the trusted head", () => {
    const c = chain(4);
    const head = { seq: 3, hash: (c[3] as ChainLink).hash };
    let prev = { seq: 1, hash: (c[1] as ChainLink).hash };
    for (let i = 2; i < 4; i++) {
      const l = chainNext(prev, JSON.stringify({ ...event(i), verb: "delete" }));
      c[i] = l;
      prev = { seq: l.seq, hash: l.hash };
    }
    expect(verifyChain(c).ok).toBe(true);
    expect(verifyChain(c, { head })).toMatchObject({ ok: false, index: 3, problem: "altered" });
  });

  it("verifies a later slice from a trusted start", () => {
    const c = chain(6);
    const start = { seq: 2, hash: (c[2] as ChainLink).hash };
    expect(verifyChain(c.slice(3), { start }).ok).toBe(true);
    expect(verifyChain(c.slice(4), { start })).toMatchObject({ ok: false, index: 0, problem: "removed" });
  });

  it("finds any single alteration, removal or swap at the right position", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 12 }),
        fc.nat(),
        fc.constantFrom("alter", "remove", "swap"),
        (n, k, op) => {
          const c = chain(n);
          const i = k % (n - 1);
          if (op === "alter") c[i] = edited(c[i] as ChainLink, (e) => ({ ...e, requestURI: "/x" }));
          if (op === "remove") c.splice(i, 1);
          if (op === "swap") [c[i], c[i + 1]] = [c[i + 1] as ChainLink, c[i] as ChainLink];
          const v = verifyChain(c);
          const problem = op === "alter" ? "altered" : op === "remove" ? "removed" : "reordered";
          expect(v).toMatchObject({ ok: false, index: i, problem });
        },
      ),
    );
  });
});
