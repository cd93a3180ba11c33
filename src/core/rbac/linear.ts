/**
 * The straightforward evaluator: on every request it walks every ClusterRoleBinding, then every
 * RoleBinding of the request's namespace, resolving each binding's role and testing its rules one
 * by one, exactly as kube-apiserver's DefaultRuleResolver.VisitRulesFor does. It is the oracle the
 * indexed evaluator is property-tested against and the baseline its benchmark is compared with.
 */
import type { RequestAttributes, UserInfo } from "../k8s/attributes.js";
import type { RbacEngine, ResolvedRule, ResolvedRules, RoleLookup } from "./engine.js";
import { allowedReason, noOpinionReason, roleNotFound } from "./reasons.js";
import { ruleAllows } from "./rule-match.js";
import { firstApplyingSubject } from "./subjects.js";
import {
  NO_OPINION,
  objectKey,
  refOf,
  type AnyBinding,
  type AnyRole,
  type ClusterRoleBinding,
  type Decision,
  type ObjectRef,
  type PolicyRule,
  type RbacObject,
  type RoleBinding,
  type RoleRef,
} from "./types.js";

type Visitor = (
  binding: AnyBinding,
  subjectIndex: number,
  rule: PolicyRule | null,
  error: string | null,
) => boolean;

export class LinearRbac implements RbacEngine {
  private readonly roles = new Map<string, AnyRole>();
  private readonly crbs = new Map<string, ClusterRoleBinding>();
  private readonly rbs = new Map<string, Map<string, RoleBinding>>();

  static from(objects: Iterable<RbacObject>): LinearRbac {
    const l = new LinearRbac();
    for (const o of objects) l.upsert(o);
    return l;
  }

  upsert(o: RbacObject): void {
    this.remove(refOf(o));
    const key = objectKey(refOf(o));
    switch (o.kind) {
      case "Role":
      case "ClusterRole":
        this.roles.set(key, o);
        return;
      case "ClusterRoleBinding":
        this.crbs.set(key, o);
        return;
      case "RoleBinding": {
        let m = this.rbs.get(o.metadata.namespace);
        if (!m) this.rbs.set(o.metadata.namespace, (m = new Map()));
        m.set(key, o);
        return;
      }
    }
  }

  remove(ref: ObjectRef): boolean {
    const key = objectKey(ref);
    switch (ref.kind) {
      case "Role":
      case "ClusterRole":
        return this.roles.delete(key);
      case "ClusterRoleBinding":
        return this.crbs.delete(key);
      case "RoleBinding": {
        const m = this.rbs.get(ref.namespace ?? "");
        const had = m?.delete(key) ?? false;
        if (m && m.size === 0) this.rbs.delete(ref.namespace ?? "");
        return had;
      }
    }
  }

  get(ref: ObjectRef): RbacObject | undefined {
    const key = objectKey(ref);
    switch (ref.kind) {
      case "Role":
      case "ClusterRole":
        return this.roles.get(key);
      case "ClusterRoleBinding":
        return this.crbs.get(key);
      case "RoleBinding":
        return this.rbs.get(ref.namespace ?? "")?.get(key);
    }
  }

  resolveRoleRef(ref: RoleRef, bindingNamespace: string): RoleLookup {
    const role =
      ref.kind === "Role"
        ? this.roles.get(objectKey({ kind: "Role", name: ref.name, namespace: bindingNamespace }))
        : ref.kind === "ClusterRole"
          ? this.roles.get(objectKey({ kind: "ClusterRole", name: ref.name }))
          : undefined;
    return role ? { found: true, role } : { found: false, error: roleNotFound(ref) };
  }

  clusterRoleBindings(): Iterable<ClusterRoleBinding> {
    return this.crbs.values();
  }

  roleBindings(namespace: string): Iterable<RoleBinding> {
    return this.rbs.get(namespace)?.values() ?? [];
  }

  bindingNamespaces(): Iterable<string> {
    return this.rbs.keys();
  }

  /** VisitRulesFor: every applying binding, ClusterRoleBindings first; stops when the visitor says so. */
  private visit(user: UserInfo, namespace: string, visitor: Visitor): void {
    const walk = (bindings: Iterable<AnyBinding>, ns: string): boolean => {
      for (const b of bindings) {
        const i = firstApplyingSubject(user, b.subjects, ns);
        if (i < 0) continue;
        const r = this.resolveRoleRef(b.roleRef, ns);
        if (!r.found) {
          if (!visitor(b, i, null, r.error)) return false;
          continue;
        }
        for (const rule of r.role.rules) if (!visitor(b, i, rule, null)) return false;
      }
      return true;
    };
    if (!walk(this.crbs.values(), "")) return;
    if (namespace !== "") walk(this.roleBindings(namespace), namespace);
  }

  authorize(a: RequestAttributes): Decision {
    const namespace = a.kind === "resource" ? a.namespace : "";
    const errors: string[] = [];
    let reason: string | null = null;
    this.visit(a.user, namespace, (binding, i, rule, error) => {
      if (rule && ruleAllows(a, rule)) {
        reason = allowedReason(binding, i);
        return false;
      }
      if (error !== null) errors.push(error);
      return true;
    });
    if (reason !== null) return { decision: "allow", reason };
    return errors.length === 0 ? NO_OPINION : { decision: "noOpinion", reason: noOpinionReason(errors) };
  }

  rulesFor(user: UserInfo, namespace: string): ResolvedRules {
    const rules: ResolvedRule[] = [];
    const errors: string[] = [];
    this.visit(user, namespace, (binding, _i, rule, error) => {
      if (rule) rules.push({ rule, binding });
      if (error !== null) errors.push(error);
      return true;
    });
    return { rules, errors };
  }
}
