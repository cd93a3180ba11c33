/**
 * The policy store behind the indexed authorizer. Bindings are indexed by subject (user name or group
 * name) and, inside that, by scope (cluster, or one namespace), so a decision looks at the bindings
 * that name the user or one of its groups, never at the rest. Roles are held in shared slots that
 * bindings point to, so adding, changing or removing a binding is O(its subjects) and changing a role
 * O(the bindings that use it), with no rebuild; a binding may arrive before its role (it grants
 * nothing until the role exists).
 *
 * Order: every binding gets a sequence number when added (an update re-adds it last). Evaluation
 * order is ClusterRoleBindings by sequence, then the namespace's RoleBindings by sequence, the same
 * order LinearRbac walks, so both name the same binding in "allowed by" reasons. (kube-apiserver's
 * own order is its informer cache's, which is unspecified; any allowing binding is a faithful answer.)
 */
import { compileRole } from "./compiled-role.js";
import { ALL_BITS, Interner } from "./interner.js";
import { refreshMasks, ScopeIndex, type BindingEntry, type RoleSlot } from "./postings.js";
import { roleNotFound } from "./reasons.js";
import { subjectUsername } from "./subjects.js";
import {
  objectKey,
  refOf,
  type AnyBinding,
  type AnyRole,
  type ObjectRef,
  type RbacObject,
  type RoleRef,
} from "./types.js";

export class IndexStore {
  /** Bindings by scope ("" = ClusterRoleBindings, else a namespace's RoleBindings), then by subject. */
  readonly scopes = new Map<string, ScopeIndex>();
  readonly roles = new Map<string, AnyRole>();
  readonly slots = new Map<string, RoleSlot>();
  /** All bindings by object key, per scope ("" = cluster), in evaluation order. */
  readonly bindingsByScope = new Map<string, Map<string, BindingEntry>>();
  readonly interner = new Interner();
  private seq = 0;

  upsert(o: RbacObject): void {
    this.remove(refOf(o));
    if (o.kind === "Role" || o.kind === "ClusterRole") this.addRole(o);
    else this.addBinding(o);
  }

  remove(ref: ObjectRef): boolean {
    const key = objectKey(ref);
    if (ref.kind === "Role" || ref.kind === "ClusterRole") {
      if (!this.roles.delete(key)) return false;
      const slot = this.slots.get(key);
      if (slot) this.setSlotRole(slot, undefined);
      return true;
    }
    const scope = ref.kind === "RoleBinding" ? (ref.namespace ?? "") : "";
    const entries = this.bindingsByScope.get(scope);
    const e = entries?.get(key);
    if (!entries || !e) return false;
    entries.delete(key);
    if (entries.size === 0) this.bindingsByScope.delete(scope);
    const index = this.scopes.get(scope);
    if (index && index.delete(e)) this.scopes.delete(scope);
    e.slot.entries.delete(e);
    if (e.slot.entries.size === 0 && e.slot.role === undefined) this.slots.delete(e.slot.key);
    return true;
  }

  getBinding(ref: ObjectRef): AnyBinding | undefined {
    const scope = ref.kind === "RoleBinding" ? (ref.namespace ?? "") : "";
    return this.bindingsByScope.get(scope)?.get(objectKey(ref))?.binding;
  }

  scope(namespace: string): Iterable<BindingEntry> {
    return this.bindingsByScope.get(namespace)?.values() ?? [];
  }

  /** The slot a reference from a binding in bindingNamespace resolves to (created if new). */
  private slotFor(ref: RoleRef, bindingNamespace: string): RoleSlot {
    const key =
      ref.kind === "Role"
        ? objectKey({ kind: "Role", name: ref.name, namespace: bindingNamespace })
        : objectKey({ kind: "ClusterRole", name: ref.name });
    let slot = this.slots.get(key);
    if (!slot) {
      const role = this.roles.get(key);
      slot = {
        key,
        ref,
        role,
        compiled: role ? compileRole(role.rules, this.interner) : undefined,
        entries: new Set(),
        notFound: roleNotFound(ref),
      };
      this.slots.set(key, slot);
    }
    return slot;
  }

  private addRole(r: AnyRole): void {
    const key = objectKey(refOf(r));
    this.roles.set(key, r);
    const slot = this.slots.get(key);
    if (slot) this.setSlotRole(slot, r);
  }

  /** A role appeared, changed or went: recompile, and refresh the masks of every binding using it. */
  private setSlotRole(slot: RoleSlot, r: AnyRole | undefined): void {
    slot.role = r;
    slot.compiled = r ? compileRole(r.rules, this.interner) : undefined;
    if (!r && slot.entries.size === 0) {
      this.slots.delete(slot.key);
      return;
    }
    for (const e of slot.entries) {
      refreshMasks(e);
      this.scopes.get(e.namespace)?.recompute(e);
    }
  }

  private addBinding(b: AnyBinding): void {
    const namespace = b.kind === "RoleBinding" ? b.metadata.namespace : "";
    const userKeys = new Set<string>();
    const groupKeys = new Set<string>();
    for (const s of b.subjects) {
      if (s.kind === "Group") groupKeys.add(s.name);
      else {
        const u = subjectUsername(s, namespace);
        if (u !== null) userKeys.add(u);
      }
    }
    const slot = this.slotFor(b.roleRef, namespace);
    const e: BindingEntry = {
      seq: ++this.seq,
      binding: b,
      namespace,
      slot,
      userKeys: [...userKeys],
      groupKeys: [...groupKeys],
      verbMask: ALL_BITS,
      keyMask: ALL_BITS,
      decisions: [],
    };
    refreshMasks(e);
    slot.entries.add(e);
    let entries = this.bindingsByScope.get(namespace);
    if (!entries) this.bindingsByScope.set(namespace, (entries = new Map()));
    entries.set(objectKey(refOf(b)), e);
    let index = this.scopes.get(namespace);
    if (!index) this.scopes.set(namespace, (index = new ScopeIndex()));
    index.add(e);
  }
}
