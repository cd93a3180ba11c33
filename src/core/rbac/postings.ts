/**
 * Posting lists: per scope (cluster-wide, or one namespace), for one user or group, the bindings
 * that name it, in sequence order. Each binding entry carries a copy of its role's prefilter (verb
 * mask, key mask), and each list the union of its entries' masks, so a decision skips whole lists,
 * and then single entries, without touching the role: on a large policy most of a decision's cost
 * is memory latency, and these checks read only memory the scan has already loaded.
 */
import type { CompiledRole } from "./compiled-role.js";
import { ALL_BITS } from "./interner.js";
import type { AnyBinding, AnyRole, Decision, RoleRef } from "./types.js";

/** Where bindings find their role; shared by all bindings with the same reference. */
export interface RoleSlot {
  readonly key: string;
  readonly ref: RoleRef;
  role: AnyRole | undefined;
  compiled: CompiledRole | undefined;
  /** The bindings pointing here; the slot is dropped when none is left and the role is absent. */
  readonly entries: Set<BindingEntry>;
  readonly notFound: string;
}

export interface BindingEntry {
  readonly seq: number;
  readonly binding: AnyBinding;
  /** "" for a ClusterRoleBinding */
  readonly namespace: string;
  readonly slot: RoleSlot;
  readonly userKeys: readonly string[];
  readonly groupKeys: readonly string[];
  /** Copies of the role's masks; all bits while the role is missing, so it reaches the full check. */
  verbMask: number;
  keyMask: number;
  /** Allow decisions by index of the subject named in the reason, built on first use. */
  readonly decisions: (Decision | undefined)[];
}

export function refreshMasks(e: BindingEntry): void {
  const c = e.slot.compiled;
  e.verbMask = c ? c.verbMask : ALL_BITS;
  e.keyMask = c ? c.keyMask : ALL_BITS;
}

/** One scope's entries with the union of their masks. */
export class ScopeList {
  readonly entries: BindingEntry[] = [];
  verbMask = 0;
  keyMask = 0;

  push(e: BindingEntry): void {
    this.entries.push(e);
    this.verbMask |= e.verbMask;
    this.keyMask |= e.keyMask;
  }

  remove(e: BindingEntry): void {
    const i = this.entries.indexOf(e);
    if (i >= 0) this.entries.splice(i, 1);
    this.recompute();
  }

  /** After an entry's masks changed (its role did). */
  recompute(): void {
    let v = 0;
    let k = 0;
    for (const e of this.entries) {
      v |= e.verbMask;
      k |= e.keyMask;
    }
    this.verbMask = v;
    this.keyMask = k;
  }
}

/**
 * One scope's bindings (all ClusterRoleBindings, or one namespace's RoleBindings) by the users and
 * groups they name. Scope first, subject second: a namespace's tables are small and stay in cache
 * while a decision looks up the user and each of its groups.
 */
export class ScopeIndex {
  readonly users = new Map<string, ScopeList>();
  readonly groups = new Map<string, ScopeList>();

  add(e: BindingEntry): void {
    for (const k of e.userKeys) listFor(this.users, k).push(e);
    for (const k of e.groupKeys) listFor(this.groups, k).push(e);
  }

  /** Remove; returns whether the scope is now empty. */
  delete(e: BindingEntry): boolean {
    for (const k of e.userKeys) drop(this.users, k, e);
    for (const k of e.groupKeys) drop(this.groups, k, e);
    return this.users.size === 0 && this.groups.size === 0;
  }

  /** After the masks of an entry changed. */
  recompute(e: BindingEntry): void {
    for (const k of e.userKeys) this.users.get(k)?.recompute();
    for (const k of e.groupKeys) this.groups.get(k)?.recompute();
  }
}

function listFor(m: Map<string, ScopeList>, key: string): ScopeList {
  let l = m.get(key);
  if (!l) m.set(key, (l = new ScopeList()));
  return l;
}

function drop(m: Map<string, ScopeList>, key: string, e: BindingEntry): void {
  const l = m.get(key);
  if (!l) return;
  l.remove(e);
  if (l.entries.length === 0) m.delete(key);
}
