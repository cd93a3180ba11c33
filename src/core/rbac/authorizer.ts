/**
 * RbacIndex: the indexed RBAC authorizer. Same answers and reasons as kube-apiserver's RBAC
 * authorizer (and as LinearRbac, which is checked against it), but a decision only looks at the
 * bindings that name the requesting user or one of its groups, so its cost does not grow with the
 * number of bindings in the cluster.
 *
 * The gateway keeps one RbacIndex per cluster and calls upsert/remove as bindings and roles change.
 */
import type { RequestAttributes, UserInfo } from "../k8s/attributes.js";
import { PreparedRequest, prepareRequest, roleAllows } from "./compiled-role.js";
import type { RbacEngine, ResolvedRule, ResolvedRules, RoleLookup } from "./engine.js";
import { IndexStore } from "./index-store.js";
import { SubjectCache, type SubjectCacheOptions } from "./subject-cache.js";
import type { BindingEntry, ScopeIndex, ScopeList } from "./postings.js";
import { allowedReason, noOpinionReason, roleNotFound } from "./reasons.js";
import { firstApplyingSubject } from "./subjects.js";
import {
  NO_OPINION,
  objectKey,
  type ClusterRoleBinding,
  type Decision,
  type ObjectRef,
  type RbacObject,
  type RoleBinding,
  type RoleRef,
} from "./types.js";

export class RbacIndex implements RbacEngine {
  private readonly store = new IndexStore();
  /** Per-subject merged binding lists (subject-cache.ts); cleared on every change. */
  private readonly subjects: SubjectCache;

  constructor(opts: SubjectCacheOptions = {}) {
    this.subjects = new SubjectCache(opts);
  }

  static from(objects: Iterable<RbacObject>, opts: SubjectCacheOptions = {}): RbacIndex {
    const idx = new RbacIndex(opts);
    for (const o of objects) idx.upsert(o);
    return idx;
  }

  /** Add or replace one object. No rebuild: cost is proportional to the object's subjects. */
  upsert(o: RbacObject): void {
    this.store.upsert(o);
    this.subjects.clear();
  }

  /** Remove one object; false if it was not there. */
  remove(ref: ObjectRef): boolean {
    const removed = this.store.remove(ref);
    if (removed) this.subjects.clear();
    return removed;
  }

  /** Subject cache counters (for metrics and the benchmark). */
  cacheStats(): { subjects: number; hits: number; misses: number } {
    return { subjects: this.subjects.size, hits: this.subjects.hits, misses: this.subjects.misses };
  }

  get(ref: ObjectRef): RbacObject | undefined {
    if (ref.kind === "Role" || ref.kind === "ClusterRole") return this.store.roles.get(objectKey(ref));
    return this.store.getBinding(ref);
  }

  resolveRoleRef(ref: RoleRef, bindingNamespace: string): RoleLookup {
    const key =
      ref.kind === "Role"
        ? objectKey({ kind: "Role", name: ref.name, namespace: bindingNamespace })
        : objectKey({ kind: "ClusterRole", name: ref.name });
    const role = ref.kind === "Role" || ref.kind === "ClusterRole" ? this.store.roles.get(key) : undefined;
    return role ? { found: true, role } : { found: false, error: roleNotFound(ref) };
  }

  *clusterRoleBindings(): Iterable<ClusterRoleBinding> {
    for (const e of this.store.scope("")) yield e.binding as ClusterRoleBinding;
  }

  *roleBindings(namespace: string): Iterable<RoleBinding> {
    if (namespace === "") return;
    for (const e of this.store.scope(namespace)) yield e.binding as RoleBinding;
  }

  *bindingNamespaces(): Iterable<string> {
    for (const ns of this.store.bindingsByScope.keys()) if (ns !== "") yield ns;
  }

  /** The lists naming the user or its groups in one scope, found per decision (reused buffer). */
  private readonly found: ScopeList[] = [];
  private sawMissing = false;
  private readonly prepared = new PreparedRequest();

  private gather(scope: ScopeIndex | undefined, user: UserInfo): number {
    if (scope === undefined) return 0;
    const found = this.found;
    let n = 0;
    const u = scope.users.get(user.username);
    if (u !== undefined) found[n++] = u;
    const groups = user.groups;
    for (let i = 0; i < groups.length; i++) {
      const g = scope.groups.get(groups[i] as string);
      if (g !== undefined) found[n++] = g;
    }
    return n;
  }

  /**
   * The hot path. For a subject seen before: two cached lists and no allocation; missing roles are
   * only gathered (in a second pass) when nothing allows.
   */
  authorize(a: RequestAttributes): Decision {
    const scopes = this.store.scopes;
    const namespace = a.kind === "resource" ? a.namespace : "";
    const q = prepareRequest(a, this.store.interner, this.prepared);
    this.sawMissing = false;
    const cache = this.subjects;
    const view = cache.view(a.user);
    let hit: BindingEntry | undefined;
    if (view !== undefined) {
      hit = this.firstAllowing(cache.list(view, "", scopes.get(""), a.user), q);
      if (hit === undefined && namespace !== "")
        hit = this.firstAllowing(cache.list(view, namespace, scopes.get(namespace), a.user), q);
    } else {
      hit = this.firstOfLists(this.gather(scopes.get(""), a.user), q);
      if (hit === undefined && namespace !== "")
        hit = this.firstOfLists(this.gather(scopes.get(namespace), a.user), q);
    }
    if (hit !== undefined) return allowDecision(hit, a.user);
    if (!this.sawMissing) return NO_OPINION;
    const errors = this.entries(a.user, namespace)
      .filter((e) => e.slot.compiled === undefined)
      .map((e) => e.slot.notFound);
    return { decision: "noOpinion", reason: noOpinionReason(errors) };
  }

  /**
   * The first allowing binding of a subject's merged list (in sequence order, so the first that
   * allows is the one the linear walk names). The list's mask union rules out every entry at once;
   * entry masks rule out single ones before the role is looked at.
   */
  private firstAllowing(list: ScopeList, q: PreparedRequest, beforeSeq = Infinity): BindingEntry | undefined {
    const vf = q.verbFilter;
    const kf = q.keyFilter;
    if ((list.verbMask & vf) === 0 || (list.keyMask & kf) === 0) return undefined;
    const entries = list.entries;
    for (let j = 0; j < entries.length; j++) {
      const e = entries[j] as BindingEntry;
      if (e.seq >= beforeSeq) return undefined;
      if ((e.verbMask & vf) === 0 || (e.keyMask & kf) === 0) continue;
      const c = e.slot.compiled;
      if (c === undefined) this.sawMissing = true;
      else if (roleAllows(c, q)) return e;
    }
    return undefined;
  }

  /**
   * Without a cached view (a subject seen for the first time): the allowing binding with the lowest
   * sequence number among the subject's lists in one scope. Each list is in sequence order, so a
   * list is left as soon as it passes the best found so far.
   */
  private firstOfLists(n: number, q: PreparedRequest): BindingEntry | undefined {
    let best: BindingEntry | undefined;
    for (let i = 0; i < n; i++) {
      const list = this.found[i] as ScopeList;
      const e = this.firstAllowing(list, q, best === undefined ? Infinity : best.seq);
      if (e !== undefined) best = e;
    }
    return best;
  }

  /** Every binding naming the user in the cluster scope and the namespace, in evaluation order. */
  private entries(user: UserInfo, namespace: string): BindingEntry[] {
    const out: BindingEntry[] = [];
    for (const scope of namespace === "" ? [""] : ["", namespace]) {
      const n = this.gather(this.store.scopes.get(scope), user);
      for (let i = 0; i < n; i++) out.push(...(this.found[i] as ScopeList).entries);
    }
    return inOrder(out);
  }

  rulesFor(user: UserInfo, namespace: string): ResolvedRules {
    const rules: ResolvedRule[] = [];
    const errors: string[] = [];
    for (const e of this.entries(user, namespace)) {
      const role = e.slot.role;
      if (!role) errors.push(e.slot.notFound);
      else for (const rule of role.rules) rules.push({ rule, binding: e.binding });
    }
    return { rules, errors };
  }

  /** Counts, for metrics and the benchmark. */
  stats(): { roles: number; bindings: number; scopes: number } {
    let bindings = 0;
    for (const m of this.store.bindingsByScope.values()) bindings += m.size;
    return {
      roles: this.store.roles.size,
      bindings,
      scopes: this.store.scopes.size,
    };
  }
}

/** The allow decision for a binding, built once per binding and subject and then reused. */
function allowDecision(e: BindingEntry, user: UserInfo): Decision {
  const i = firstApplyingSubject(user, e.binding.subjects, e.namespace);
  let d = e.decisions[i];
  if (d === undefined) {
    d = Object.freeze({ decision: "allow" as const, reason: allowedReason(e.binding, i) });
    e.decisions[i] = d;
  }
  return d;
}

/** Distinct entries, ClusterRoleBindings first, each part by sequence (the linear walk's order). */
function inOrder(entries: readonly BindingEntry[]): BindingEntry[] {
  return [...new Set(entries)].sort((x, y) =>
    x.namespace === "" && y.namespace !== ""
      ? -1
      : y.namespace === "" && x.namespace !== ""
        ? 1
        : x.seq - y.seq,
  );
}
