import { createHash } from "node:crypto";

/**
 * Tamper evidence for stored events. Each stored event is a link:
 *
 *   hash = sha256( prevHash "\n" seq "\n" json )   (hex, over the UTF-8 bytes)
 *
 * where `json` is the event exactly as stored: the writer serialises an event once, hashes those
 * bytes and stores those bytes, and the verifier re-hashes the stored bytes. Nothing is parsed or
 * re-serialised on either side, so no canonical form is needed (and a store that gave back other
 * bytes than it was given would show up as an alteration, which is what it is). seq counts from 0 and prevHash of the first link is GENESIS_HASH. Changing an event, its seq or
 * its hash, removing a link or reordering links breaks a hash or a link and verifyChain names the
 * first position where that happens. Rewriting a whole suffix consistently can only be caught
 * against a head (seq and hash) recorded elsewhere, which verifyChain accepts as `head`; removing
 * links from the end likewise needs the head.
 */
export interface ChainLink {
  seq: number;
  prevHash: string;
  hash: string;
  /** The event's JSON, byte for byte as stored. */
  json: string;
}

/** Where a chain (or a verified slice of one) ends: the last seq and hash. */
export interface ChainHead {
  seq: number;
  hash: string;
}

export const GENESIS_HASH = "0".repeat(64);
export const GENESIS: ChainHead = Object.freeze({ seq: -1, hash: GENESIS_HASH });

/** The hash of a link's content. */
export function linkHash(prevHash: string, seq: number, json: string): string {
  return createHash("sha256").update(`${prevHash}\n${seq}\n`).update(json).digest("hex");
}

/** Append an event, serialised as it will be stored, after `prev` (GENESIS for an empty chain). */
export function chainNext(prev: ChainHead, json: string): ChainLink {
  const seq = prev.seq + 1;
  return { seq, prevHash: prev.hash, hash: linkHash(prev.hash, seq, json), json };
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
    if (linkHash(l.prevHash, l.seq, l.json) !== l.hash) {
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
