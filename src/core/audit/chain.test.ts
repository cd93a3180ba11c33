import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { canonicalJson } from "./canonical-json.js";
import { chainNext, GENESIS, verifyChain, type ChainLink } from "./chain.js";
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
    const l = chainNext(head, event(i));
    out.push(l);
    head = { seq: l.seq, hash: l.hash };
  }
  return out;
}

describe("canonicalJson", () => {
  it("sorts keys at every depth and drops undefined members", () => {
    expect(canonicalJson({ b: 1, a: { d: [1, "x", null], c: true }, z: undefined })).toBe(
      '{"a":{"c":true,"d":[1,"x",null]},"b":1}',
    );
  });
  it("is the same for any key order", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (o) => {
        const reversed = Object.fromEntries(Object.entries(o).reverse());
        expect(canonicalJson(reversed)).toBe(canonicalJson(o));
        expect(JSON.parse(canonicalJson(o))).toEqual(JSON.parse(JSON.stringify(o)));
      }),
    );
  });
});

describe("verifyChain", () => {
  it("accepts an intact chain and reports its head", () => {
    const c = chain(5);
    expect(verifyChain(c)).toEqual({ ok: true, head: { seq: 4, hash: c[4]?.hash }, count: 5 });
    expect(verifyChain([])).toEqual({ ok: true, head: GENESIS, count: 0 });
  });

  it("is stable under a store handing back keys in another order", () => {
    const c = chain(3).map((l) => ({ ...l, event: JSON.parse(canonicalJson(l.event)) as Event }));
    expect(verifyChain(c).ok).toBe(true);
  });

  it("detects an altered event at its position", () => {
    const c = chain(5);
    c[2] = { ...(c[2] as ChainLink), event: { ...(c[2] as ChainLink).event, verb: "delete" } };
    expect(verifyChain(c)).toMatchObject({ ok: false, index: 2, problem: "altered" });
  });

  it("detects an altered event whose hash was recomputed, at that event", () => {
    const c = chain(5);
    const l = c[1] as ChainLink;
    const forged = chainNext(
      { seq: l.seq - 1, hash: l.prevHash },
      { ...l.event, user: { username: "mallory" } },
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
      const l = chainNext(prev, { ...event(i), verb: "delete" });
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
          if (op === "alter")
            c[i] = { ...(c[i] as ChainLink), event: { ...(c[i] as ChainLink).event, requestURI: "/x" } };
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
