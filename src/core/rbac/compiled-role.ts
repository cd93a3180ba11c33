/**
 * A role's rules compiled once into sets, so a decision costs a few set lookups per rule instead of
 * array scans with string building. Same answers as rule-match.ts (property-tested). Before any rule
 * is looked at, a role-level prefilter (a verb bit mask and the interned "group\0resource" keys of
 * its wildcard-free rules) rejects most roles that cannot match.
 */
import type { RequestAttributes } from "../k8s/attributes.js";
import { ANY_VERB_BIT, keyBit, URL_BIT, WILD_BIT, type Interner } from "./interner.js";
import { trimStars } from "./rule-match.js";
import type { PolicyRule } from "./types.js";

/**
 * A request with what rule matching needs worked out once, not once per rule. The index fills one
 * of these per decision in place (decisions are synchronous), so the hot path allocates nothing.
 */
export class PreparedRequest {
  resourceRequest = false;
  verb = "";
  apiGroup = "";
  /** "pods" or "pods/log" */
  combined = "";
  /** "*\/log" when there is a subresource, else "" */
  starSubresource = "";
  name = "";
  path = "";
  /** Interned bit of the verb (0: no role names it), with ANY_VERB_BIT: tested against role verb masks */
  verbFilter = 0;
  /** Key filter bits: the buckets of keyId and starKeyId plus WILD_BIT, or URL_BIT for a URL */
  keyFilter = 0;
  /** Interned id of (group, combined) (-1: no role names it) */
  keyId = -1;
  /** Interned id of (group, "*\/sub") (-1: none, or no subresource) */
  starKeyId = -1;
}

/** Fill `q` (or a new PreparedRequest) for the request. */
export function prepareRequest(
  a: RequestAttributes,
  interner: Interner,
  q = new PreparedRequest(),
): PreparedRequest {
  q.verb = a.verb;
  q.verbFilter = interner.lookupVerb(a.verb) | ANY_VERB_BIT;
  if (a.kind === "resource") {
    const sub = a.subresource;
    q.resourceRequest = true;
    q.apiGroup = a.apiGroup;
    q.combined = sub === "" ? a.resource : `${a.resource}/${sub}`;
    q.starSubresource = sub === "" ? "" : `*/${sub}`;
    q.name = a.name;
    q.path = "";
    q.keyId = interner.lookupKey(a.apiGroup, q.combined);
    q.starKeyId = sub === "" ? -1 : interner.lookupKey(a.apiGroup, q.starSubresource);
    q.keyFilter = WILD_BIT | keyBit(q.keyId) | keyBit(q.starKeyId);
  } else {
    q.resourceRequest = false;
    q.apiGroup = "";
    q.combined = "";
    q.starSubresource = "";
    q.name = "";
    q.path = a.path;
    q.keyId = -1;
    q.starKeyId = -1;
    q.keyFilter = URL_BIT;
  }
  return q;
}

interface CompiledRule {
  /** null: "*" present (matches all) */
  readonly verbs: ReadonlySet<string> | null;
  readonly groups: ReadonlySet<string> | null;
  readonly resources: ReadonlySet<string> | null;
  /** null: no resourceNames (any name) */
  readonly names: ReadonlySet<string> | null;
  readonly urlAll: boolean;
  readonly urls: ReadonlySet<string>;
  readonly urlPrefixes: readonly string[];
}

export interface CompiledRole {
  readonly rules: readonly PolicyRule[];
  /** Bits of every verb the rules name, and ANY_VERB_BIT for "*". */
  readonly verbMask: number;
  /** Key filter bits: buckets of keyIds, WILD_BIT, URL_BIT. */
  readonly keyMask: number;
  /** Some resource rule has group "*" or resource "*": the key prefilter cannot rule it out. */
  readonly wild: boolean;
  /** Interned "group\0resource" ids of the wildcard-free resource rules (resource may be "res/sub" or "*\/sub"). */
  readonly keyIds: Int32Array;
  readonly urlRules: boolean;
  readonly compiled: readonly CompiledRule[];
}

function wildSet(values: readonly string[] | undefined): ReadonlySet<string> | null {
  const v = values ?? [];
  return v.includes("*") ? null : new Set(v);
}

function compileRule(r: PolicyRule): CompiledRule {
  const urls = r.nonResourceURLs ?? [];
  const names = r.resourceNames ?? [];
  return {
    verbs: wildSet(r.verbs),
    groups: wildSet(r.apiGroups),
    resources: wildSet(r.resources),
    names: names.length === 0 ? null : new Set(names),
    urlAll: urls.includes("*"),
    urls: new Set(urls),
    urlPrefixes: urls.filter((u) => u.endsWith("*")).map(trimStars),
  };
}

export function compileRole(rules: readonly PolicyRule[], interner: Interner): CompiledRole {
  let verbMask = 0;
  const keys = new Set<number>();
  let wild = false;
  let urlRules = false;
  for (const r of rules) {
    for (const v of r.verbs) {
      verbMask |= v === "*" ? ANY_VERB_BIT : interner.verbBit(v);
    }
    if ((r.nonResourceURLs ?? []).length > 0) urlRules = true;
    const groups = r.apiGroups ?? [];
    const resources = r.resources ?? [];
    if (groups.includes("*") || resources.includes("*")) wild = true;
    else for (const g of groups) for (const res of resources) keys.add(interner.keyId(g, res));
  }
  const keyIds = Int32Array.from(keys);
  let keyMask = (wild ? WILD_BIT : 0) | (urlRules ? URL_BIT : 0);
  for (const id of keyIds) keyMask |= keyBit(id);
  return { rules, verbMask, keyMask, wild, keyIds, urlRules, compiled: rules.map(compileRule) };
}

function hasId(ids: Int32Array, id: number): boolean {
  for (let i = 0; i < ids.length; i++) if (ids[i] === id) return true;
  return false;
}

function ruleMatches(r: CompiledRule, q: PreparedRequest): boolean {
  if (r.verbs !== null && !r.verbs.has(q.verb)) return false;
  if (q.resourceRequest) {
    if (r.groups !== null && !r.groups.has(q.apiGroup)) return false;
    if (
      r.resources !== null &&
      !r.resources.has(q.combined) &&
      !(q.starSubresource !== "" && r.resources.has(q.starSubresource))
    )
      return false;
    return r.names === null || r.names.has(q.name);
  }
  if (r.urlAll || r.urls.has(q.path)) return true;
  for (const p of r.urlPrefixes) if (q.path.startsWith(p)) return true;
  return false;
}

/** Whether any rule of the role allows the request. */
export function roleAllows(role: CompiledRole, q: PreparedRequest): boolean {
  // An uninterned verb has no bit (only "*" roles pass); the "other" bit only says "maybe".
  if ((role.verbMask & q.verbFilter) === 0) return false;
  if (q.resourceRequest) {
    if (
      !role.wild &&
      (q.keyId < 0 || !hasId(role.keyIds, q.keyId)) &&
      (q.starKeyId < 0 || !hasId(role.keyIds, q.starKeyId))
    )
      return false;
  } else if (!role.urlRules) return false;
  for (const r of role.compiled) if (ruleMatches(r, q)) return true;
  return false;
}
