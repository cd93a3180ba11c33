import { createHash } from "node:crypto";
import { canonicalJson } from "./canonical-json.js";
import type { Event } from "./types.js";

/**
 * Tamper evidence for stored events. Each stored event is a link:
 *
 *   hash = sha256( prevHash "\n" seq "\n" canonicalJson(event) )   (hex)
 *
 * seq counts from 0 and prevHash of the first link is GENESIS_HASH. Changing an event, its seq or
 * its hash, removing a link or reordering links breaks a hash or a link and verifyChain names the
 * first position where that happens. Rewriting a whole suffix consistently can only be caught
 * against a head (seq and hash) recorded elsewhere, which verifyChain accepts as `head`; removing
 * links from the end likewise needs the head.
 */
export interface ChainLink {
  seq: number;
  prevHash: string;
  hash: string;
  event: Event;
}

/** Where a chain (or a verified slice of one) ends: the last seq and hash. */
export interface ChainHead {
  seq: number;
  hash: string;
}

export const GENESIS_HASH = "0".repeat(64);
export const GENESIS: ChainHead = Object.freeze({ seq: -1, hash: GENESIS_HASH });

/** The hash of a link's content. */
export function linkHash(prevHash: string, seq: number, event: Event): string {
  return createHash("sha256")
    .update(`${prevHash}\n${seq}\n${canonicalJson(event)}`)
    .digest("hex");
}

/** Append an event after `prev` (GENESIS for an empty chain). */
export function chainNext(prev: ChainHead, event: Event): ChainLink {
  const seq = prev.seq + 1;
  return { seq, prevHash: prev.hash, hash: linkHash(prev.hash, seq, event), event };
}

export type ChainProblem = "altered" | "removed" | "reordered";

export type ChainVerdict =
  | { ok: true; head: ChainHead; count: number }
  | { ok: false; index: number; problem: ChainProblem; detail: string };

/**
 * Verify links in stored order. `start` is the head just before the first link (GENESIS for a whole
 * chain, or a trusted head to verify a later slice); `head`, when given, is the trusted end.
 * `index` in a failure is a position in `links` (links.length when links are missing at the end).
 */
export function verifyChain(
  links: readonly ChainLink[],
  options: { start?: ChainHead; head?: ChainHead } = {},
): ChainVerdict {
  const start = options.start ?? GENESIS;
  let running = start.hash;
  let expected = start.seq + 1;
  for (let i = 0; i < links.length; i++) {
    const l = links[i] as ChainLink;
    if (l.seq !== expected) {
      const laterHasExpected = links.some((x, j) => j > i && x.seq === expected);
      if (laterHasExpected || l.seq < expected) {
        return fail(i, "reordered", `expected seq ${expected}, found ${l.seq}`);
      }
      return fail(i, "removed", `seq ${expected}..${l.seq - 1} missing before this event`);
    }
    if (linkHash(l.prevHash, l.seq, l.event) !== l.hash) {
      return fail(i, "altered", `event seq ${l.seq} does not match its hash`);
    }
    if (l.prevHash !== running) {
      // This link is intact and in sequence, so the one before it was changed (and re-hashed).
      return i === 0
        ? fail(0, "altered", `seq ${l.seq} does not follow the trusted start`)
        : fail(
            i - 1,
            "altered",
            `seq ${l.seq - 1} (or the link from seq ${l.seq} to it) was changed and re-hashed`,
          );
    }
    running = l.hash;
    expected++;
  }
  const last: ChainHead = { seq: expected - 1, hash: running };
  const h = options.head;
  if (h) {
    if (h.seq > last.seq)
      return fail(links.length, "removed", `seq ${last.seq + 1}..${h.seq} missing at the end`);
    // The trusted head may lie before the end when events were appended after it was recorded.
    const at = links.findIndex((l) => l.seq === h.seq);
    if (at >= 0 && (links[at] as ChainLink).hash !== h.hash) {
      return fail(at, "altered", `seq ${h.seq} does not match the trusted head`);
    }
  }
  return { ok: true, head: last, count: links.length };
}

function fail(index: number, problem: ChainProblem, detail: string): ChainVerdict {
  return { ok: false, index, problem, detail };
}
