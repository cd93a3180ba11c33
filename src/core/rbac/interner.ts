/**
 * Small integers for the strings the role prefilter compares, so that rejecting a role that cannot
 * match costs a bit test and a scan of a few packed integers instead of hashed lookups in per-role
 * sets (which, across a hundred thousand bindings, are mostly cache misses).
 *
 * Verbs get one bit each up to 29; any further verbs share the "other" bit (a role with such a verb
 * then always goes to the full rule check). Keys "group\0resource" get ids. Tables only grow; an
 * id or bit never changes meaning, so compiled roles stay valid while others are added.
 */
/** Verbs beyond the first 29 share this bit. */
export const OTHER_VERB_BIT = 1 << 29;
/** Set in the mask of a role with verb "*". */
export const ANY_VERB_BIT = 1 << 30;
const MAX_VERB_BITS = 29;

/** Filter bits over keys: 29 hash buckets of key ids, plus "has wildcard resource rules" and "has URL rules". */
export const WILD_BIT = 1 << 29;
export const URL_BIT = 1 << 30;
const BUCKETS = 29;

/** The filter bit of a key id (0 for -1, an unknown key). */
export function keyBit(id: number): number {
  return id < 0 ? 0 : 1 << (id % BUCKETS);
}

/** All bits: what a binding whose role is missing carries, so it always reaches the full check. */
export const ALL_BITS = 0x7fffffff;

export class Interner {
  private readonly verbBits = new Map<string, number>();
  /** group → resource → id: two small lookups and no string building per request. */
  private readonly keyIds = new Map<string, Map<string, number>>();
  private nextKey = 0;

  /** The bit for a verb seen in a role (assigned on first sight). */
  verbBit(verb: string): number {
    let b = this.verbBits.get(verb);
    if (b === undefined) {
      b = this.verbBits.size < MAX_VERB_BITS ? 1 << this.verbBits.size : OTHER_VERB_BIT;
      this.verbBits.set(verb, b);
    }
    return b;
  }

  /** The bit for a requested verb; 0 when no role ever named it. */
  lookupVerb(verb: string): number {
    return this.verbBits.get(verb) ?? 0;
  }

  /** The id of (group, resource) as a role names it (assigned on first sight). */
  keyId(group: string, resource: string): number {
    let byResource = this.keyIds.get(group);
    if (byResource === undefined) this.keyIds.set(group, (byResource = new Map()));
    let id = byResource.get(resource);
    if (id === undefined) {
      id = this.nextKey++;
      byResource.set(resource, id);
    }
    return id;
  }

  /** The id of a requested (group, resource); -1 when no role ever named it. */
  lookupKey(group: string, resource: string): number {
    return this.keyIds.get(group)?.get(resource) ?? -1;
  }
}
