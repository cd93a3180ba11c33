import type { Entry } from "ldapts";
import type { LdapSettings } from "./config.js";
import { escapeFilterValue, firstRDNValue } from "./escape.js";
import type { LdapConnection } from "./connection.js";

/** Active Directory's LDAP_MATCHING_RULE_IN_CHAIN: matches members through any depth of nesting. */
export const IN_CHAIN_RULE = "1.2.840.113556.1.4.1941";
/** However the directory is shaped, one person's group list stops growing here. */
export const MAX_GROUPS = 1000;

export const values = (e: Entry, attr: string): string[] => {
  const key = Object.keys(e).find((k) => k.toLowerCase() === attr.toLowerCase());
  const v = key === undefined ? undefined : e[key];
  if (v === undefined) return [];
  const list = Array.isArray(v) ? v : [v];
  return list.map((x) => (Buffer.isBuffer(x) ? x.toString("utf8") : x));
};

/** The user attributes group resolution needs, besides the DN. */
export function groupAttributesOfUser(s: LdapSettings): string[] {
  const out: string[] = [];
  if (s.memberOfAttribute) out.push(s.memberOfAttribute);
  if (s.groupSearch && s.groupSearch.userAttribute !== "DN") out.push(s.groupSearch.userAttribute);
  return out;
}

/** The filter that finds the groups listing `value` (a DN or an attribute value) as a member. */
export function memberFilter(
  s: NonNullable<LdapSettings["groupSearch"]>,
  value: string,
  inChain: boolean,
): string {
  const attr = inChain ? `${s.memberAttribute}:${IN_CHAIN_RULE}:` : s.memberAttribute;
  return `(&${s.filter}(${attr}=${escapeFilterValue(value)}))`;
}

/**
 * The names of a user's groups (unprefixed, unsorted). Direct groups come from a group search by
 * member, or from the user's memberOf attribute; nested groups from AD's in-chain rule in one search,
 * or elsewhere breadth-first, each group visited once (cycles end) and at most `maxGroupDepth` levels.
 */
export async function resolveGroups(conn: LdapConnection, s: LdapSettings, user: Entry): Promise<string[]> {
  const names = new Map<string, string>(); // group DN (lower case) → name
  if (s.groupSearch) {
    const gs = s.groupSearch;
    const userValue = gs.userAttribute === "DN" ? user.dn : values(user, gs.userAttribute)[0];
    if (userValue === undefined) return [];
    const inChain = s.nestedGroups && s.activeDirectory && gs.userAttribute === "DN";
    let frontier = await searchGroups(conn, gs, [memberFilter(gs, userValue, inChain)], names);
    if (!s.nestedGroups || inChain) return [...names.values()];
    for (let depth = 1; depth < s.maxGroupDepth && frontier.length > 0 && names.size < MAX_GROUPS; depth++)
      frontier = await searchGroups(
        conn,
        gs,
        frontier.map((dn) => memberFilter(gs, dn, false)),
        names,
      );
    return [...names.values()];
  }
  if (s.memberOfAttribute) {
    const attr = s.memberOfAttribute;
    if (s.nestedGroups && s.activeDirectory) {
      const r = await conn.client.search(s.userSearch.baseDN, {
        scope: "sub",
        filter: `(member:${IN_CHAIN_RULE}:=${escapeFilterValue(user.dn)})`,
        attributes: ["cn"],
        sizeLimit: MAX_GROUPS,
      });
      for (const g of r.searchEntries) addName(names, g.dn, values(g, "cn")[0]);
      return [...names.values()];
    }
    let frontier = values(user, attr).filter((dn) => addName(names, dn));
    for (let depth = 1; s.nestedGroups && depth < s.maxGroupDepth && frontier.length > 0; depth++) {
      const next: string[] = [];
      for (const dn of frontier) {
        if (names.size >= MAX_GROUPS) break;
        const r = await conn.client.search(dn, {
          scope: "base",
          filter: "(objectClass=*)",
          attributes: [attr],
        });
        for (const g of r.searchEntries)
          for (const parent of values(g, attr)) if (addName(names, parent)) next.push(parent);
      }
      frontier = next;
    }
    return [...names.values()];
  }
  return [];
}

/** Record a group; false when it was already known (or unnamed), so the walk does not revisit it. */
function addName(names: Map<string, string>, dn: string, name = firstRDNValue(dn)): boolean {
  const key = dn.toLowerCase();
  if (names.has(key) || name === undefined || names.size >= MAX_GROUPS) return false;
  names.set(key, name);
  return true;
}

/** Run the filters (OR-ed in batches), record the groups found, and return the DNs that were new. */
async function searchGroups(
  conn: LdapConnection,
  gs: NonNullable<LdapSettings["groupSearch"]>,
  filters: string[],
  names: Map<string, string>,
): Promise<string[]> {
  const fresh: string[] = [];
  for (let i = 0; i < filters.length; i += 50) {
    const batch = filters.slice(i, i + 50);
    const filter = batch.length === 1 ? (batch[0] as string) : `(|${batch.join("")})`;
    const r = await conn.client.search(gs.baseDN, {
      scope: gs.scope,
      filter,
      attributes: [gs.nameAttribute],
      sizeLimit: MAX_GROUPS,
    });
    for (const g of r.searchEntries)
      if (addName(names, g.dn, values(g, gs.nameAttribute)[0])) fresh.push(g.dn);
  }
  return fresh;
}
