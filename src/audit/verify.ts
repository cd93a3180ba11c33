import { verifyChain, type ChainHead, type ChainProblem } from "../core/audit/index.js";
import type { StoredAuditLink } from "../store/index.js";

/** What the verifier reads: links in storage order and the anchor retention left. */
export interface ChainSource {
  links(afterId: number, limit: number): Promise<StoredAuditLink[]>;
  anchor(): Promise<ChainHead>;
}

export type StoredChainVerdict =
  | { ok: true; count: number; head: ChainHead }
  | { ok: false; problem: ChainProblem; detail: string; position: number; seq?: number; auditID?: string };

const PAGE = 5000;

/**
 * Walk every stored link in storage order, a page at a time, and verify the chain from the
 * retention anchor (GENESIS when nothing was deleted) to the trusted head when one is given.
 * Memory stays at one page whatever the size of the store.
 */
export async function verifyStoredChain(
  src: ChainSource,
  trustedHead?: ChainHead,
): Promise<StoredChainVerdict> {
  let start = await src.anchor();
  let afterId = 0;
  let position = 0;
  for (;;) {
    const page = await src.links(afterId, PAGE);
    const last = page[page.length - 1];
    const isLast = page.length < PAGE;
    const v = verifyChain(page, { start, ...(isLast && trustedHead ? { head: trustedHead } : {}) });
    if (!v.ok) {
      const at = page[v.index];
      return {
        ok: false,
        problem: v.problem,
        detail: v.detail,
        position: position + v.index,
        ...(at ? { seq: at.seq, ...auditIdOf(at.json) } : {}),
      };
    }
    const headAt = trustedHead ? page.findIndex((l) => l.seq === trustedHead.seq) : -1;
    const h = page[headAt];
    if (trustedHead && h && h.hash !== trustedHead.hash)
      return {
        ok: false,
        problem: "altered",
        detail: `seq ${h.seq} does not match the trusted head`,
        position: position + headAt,
        seq: h.seq,
        ...auditIdOf(h.json),
      };
    position += page.length;
    start = v.head;
    if (isLast || !last) return { ok: true, count: position, head: v.head };
    afterId = last.id;
  }
}

/** The auditID of a stored event, to name it in a verdict; nothing when the text is not JSON. */
function auditIdOf(json: string): { auditID?: string } {
  try {
    const id = (JSON.parse(json) as { auditID?: unknown }).auditID;
    return typeof id === "string" ? { auditID: id } : {};
  } catch {
    return {};
  }
}
