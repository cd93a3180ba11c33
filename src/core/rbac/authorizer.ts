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

  static from(objects: Iterable<RbacObject>): RbacIndex {
    const idx = new RbacIndex();
    for (const o of objects) idx.upsert(o);
    return idx;
  }

  /** Add or replace one object. No rebuild: cost is proportional to the object's subjects. */
  upsert(o: RbacObject): void {
    this.store.upsert(o);
  }

  /** Remove one object; false if it was not there. */
  remove(ref: ObjectRef): boolean {
    return this.store.remove(ref);
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
   * The hot path. Allocation-free apart from the prepared request: no closures, cached decisions,
   * and missing roles are only gathered (in a second pass) when nothing allows.
   */
  authorize(a: RequestAttributes): Decision {
    const scopes = this.store.scopes;
    const namespace = a.kind === "resource" ? a.namespace : "";
    const q = prepareRequest(a, this.store.interner, this.prepared);
    this.sawMissing = false;
    let hit = this.firstAllowing(this.gather(scopes.get(""), a.user), q);
    if (hit === undefined && namespace !== "")
      hit = this.firstAllowing(this.gather(scopes.get(namespace), a.user), q);
    if (hit !== undefined) return allowDecision(hit, a.user);
    if (!this.sawMissing) return NO_OPINION;
    const errors = this.entries(a.user, namespace)
      .filter((e) => e.slot.compiled === undefined)
      .map((e) => e.slot.notFound);
    return { decision: "noOpinion", reason: noOpinionReason(errors) };
  }

  /**
   * The allowing binding with the lowest sequence number among the found lists. Each list is in
   * sequence order, so a list is left as soon as it passes the best found so far.
   */
  private firstAllowing(n: number, q: PreparedRequest): BindingEntry | undefined {
    let best: BindingEntry | undefined;
    const vf = q.verbFilter;
    const kf = q.keyFilter;
    for (let i = 0; i < n; i++) {
      const list = this.found[i] as ScopeList;
      // The list's mask union rules out every entry at once; entry masks rule out single ones.
      if ((list.verbMask & vf) === 0 || (list.keyMask & kf) === 0) continue;
      const entries = list.entries;
      for (let j = 0; j < entries.length; j++) {
        const e = entries[j] as BindingEntry;
        if (best !== undefined && e.seq >= best.seq) break;
        if ((e.verbMask & vf) === 0 || (e.keyMask & kf) === 0) continue;
        const c = e.slot.compiled;
        if (c === undefined) this.sawMissing = true;
        else if (roleAllows(c, q)) {
          best = e;
          break;
        }
      }
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
