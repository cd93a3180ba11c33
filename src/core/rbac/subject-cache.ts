/**
 * The per-subject cache in front of the index. A gateway sees the same few thousand users again and
 * again; for each (user name, groups) it remembers, per scope, the one merged list of bindings that
 * name the user or any of its groups, in sequence order, with the union of their masks. A decision
 * for a known subject then reads one short list instead of looking the user and every group up in
 * two scopes (the part of a decision that costs most on a large policy: cold hash-table reads).
 *
 * Correctness: the lists hold the index's own binding entries (whose role slots and masks the index
 * keeps current in place), and every change to the index clears the whole cache, so a cached list
 * can never name a binding that was removed or miss one that was added. A subject is found by its
 * user name, then by comparing its groups one by one with the remembered copy (no key string is
 * built per decision). Bounded: at most `maxSubjects` subjects, replaced with the CLOCK algorithm
 * (a subject used since the hand last passed gets a second chance), and `maxScopes` namespaces each.
 * A subject seen once is only remembered; its lists are built when it comes back, so one-off
 * subjects (random traffic) do not pay for merging.
 */
import type { UserInfo } from "../k8s/attributes.js";
import { ScopeList, type BindingEntry, type ScopeIndex } from "./postings.js";

export interface SubjectCacheOptions {
  /** Subjects (user name + groups) remembered. Default 4096; 0 turns the cache off. */
  maxSubjects?: number;
  /** Namespaces remembered per subject. Default 64. */
  maxScopes?: number;
}

/** One subject's merged bindings, per scope ("" = cluster-wide). */
export interface SubjectView {
  readonly scopes: Map<string, ScopeList>;
}

interface Entry {
  readonly username: string;
  /** A copy: later changes to the caller's array cannot make the entry stand for someone else. */
  readonly groups: readonly string[];
  view: SubjectView | undefined;
  /** Used since the clock hand last passed. */
  hot: boolean;
}

const EMPTY = new ScopeList();

export class SubjectCache {
  private readonly byUser = new Map<string, Entry[]>();
  /** The clock: every remembered entry, in a fixed ring of maxSubjects slots. */
  private readonly ring: (Entry | undefined)[];
  private hand = 0;
  private count = 0;
  private readonly maxScopes: number;
  hits = 0;
  misses = 0;

  constructor(opts: SubjectCacheOptions = {}) {
    this.ring = new Array<Entry | undefined>(Math.max(0, opts.maxSubjects ?? 4096)).fill(undefined);
    this.maxScopes = Math.max(1, opts.maxScopes ?? 64);
  }

  get size(): number {
    return this.count;
  }

  /** Forget everything (the index changed). */
  clear(): void {
    if (this.count === 0) return;
    this.byUser.clear();
    this.ring.fill(undefined);
    this.hand = 0;
    this.count = 0;
  }

  /** The subject's view when it has been seen before, or undefined (the first time, or cache off). */
  view(user: UserInfo): SubjectView | undefined {
    if (this.ring.length === 0) return undefined;
    const list = this.byUser.get(user.username);
    if (list !== undefined) {
      for (let i = 0; i < list.length; i++) {
        const e = list[i] as Entry;
        if (!sameGroups(e.groups, user.groups)) continue;
        this.hits++;
        e.hot = true;
        return (e.view ??= { scopes: new Map() });
      }
    }
    this.misses++;
    this.insert({ username: user.username, groups: [...user.groups], view: undefined, hot: false });
    return undefined;
  }

  /** The subject's merged list in one scope, built from the scope's index on first use. */
  list(view: SubjectView, scopeName: string, scope: ScopeIndex | undefined, user: UserInfo): ScopeList {
    let l = view.scopes.get(scopeName);
    if (l !== undefined) return l;
    l = scope === undefined ? EMPTY : merged(scope, user);
    if (view.scopes.size >= this.maxScopes) {
      const oldest = view.scopes.keys().next();
      if (oldest.done !== true) view.scopes.delete(oldest.value);
    }
    view.scopes.set(scopeName, l);
    return l;
  }

  private insert(e: Entry): void {
    const ring = this.ring;
    // Find a slot: an empty one, or the first entry not used since the hand last passed it.
    for (;;) {
      const cur = ring[this.hand];
      if (cur === undefined) break;
      if (!cur.hot) {
        this.forget(cur);
        break;
      }
      cur.hot = false;
      this.hand = (this.hand + 1) % ring.length;
    }
    ring[this.hand] = e;
    this.hand = (this.hand + 1) % ring.length;
    this.count++;
    const l = this.byUser.get(e.username);
    if (l !== undefined) l.push(e);
    else this.byUser.set(e.username, [e]);
  }

  private forget(e: Entry): void {
    this.count--;
    const l = this.byUser.get(e.username);
    if (l === undefined) return;
    const i = l.indexOf(e);
    if (i >= 0) l.splice(i, 1);
    if (l.length === 0) this.byUser.delete(e.username);
  }
}

function sameGroups(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The entries naming the user or any of its groups in one scope: distinct, in sequence order. */
function merged(scope: ScopeIndex, user: UserInfo): ScopeList {
  const lists: BindingEntry[][] = [];
  const u = scope.users.get(user.username);
  if (u !== undefined) lists.push(u.entries);
  for (const g of user.groups) {
    const l = scope.groups.get(g);
    if (l !== undefined) lists.push(l.entries);
  }
  const out = new ScopeList();
  if (lists.length === 0) return out;
  if (lists.length === 1) {
    for (const e of lists[0] as BindingEntry[]) out.push(e);
    return out;
  }
  // A binding naming both the user and one of its groups (or two of its groups) appears once.
  const all = [...new Set(lists.flat())].sort((x, y) => x.seq - y.seq);
  for (const e of all) out.push(e);
  return out;
}
