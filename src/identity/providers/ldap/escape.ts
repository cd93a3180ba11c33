/**
 * Escaping for values put into LDAP search filters (RFC 4515 §3) and distinguished names
 * (RFC 4514 §2.4). Everything a person types, and every DN read back from the directory, passes
 * through these before it becomes part of a filter: an unescaped `*`, `(` or `)` turns a username
 * into a filter of the attacker's choosing (LDAP injection), and a NUL can cut a filter short.
 */

const hex = (b: number): string => "\\" + b.toString(16).padStart(2, "0");

/**
 * Escape a value for an LDAP filter assertion (RFC 4515): `*`, `(`, `)`, `\` and NUL become `\2a`,
 * `\28`, `\29`, `\5c`, `\00`; other control characters are escaped too so that nothing invisible
 * reaches the server. Non-ASCII text stays UTF-8, as the RFC allows.
 */
export function escapeFilterValue(value: string): string {
  let out = "";
  for (const ch of value) {
    const c = ch.codePointAt(0) ?? 0;
    if (ch === "*" || ch === "(" || ch === ")" || ch === "\\" || c < 0x20 || c === 0x7f) out += hex(c);
    else out += ch;
  }
  return out;
}

/**
 * Escape a value for one attribute value of a DN (RFC 4514 §2.4): `"`, `+`, `,`, `;`, `<`, `>` and
 * `\` are backslash-escaped, a leading `#` or space and a trailing space too, and NUL becomes `\00`.
 */
export function escapeDNValue(value: string): string {
  let out = "";
  const chars = [...value];
  chars.forEach((ch, i) => {
    if (ch === "\0") out += "\\00";
    else if ('"+,;<>\\='.includes(ch)) out += "\\" + ch;
    else if ((i === 0 && (ch === " " || ch === "#")) || (i === chars.length - 1 && ch === " "))
      out += "\\" + ch;
    else out += ch;
  });
  return out;
}

/**
 * The value of the first RDN of a DN, unescaped (`cn=ops\2C eu,ou=groups,...` → `ops, eu`); used to
 * name a group from its DN in memberOf mode. Undefined when the DN does not parse.
 */
export function firstRDNValue(dn: string): string | undefined {
  const eq = dn.indexOf("=");
  if (eq <= 0) return undefined;
  const bytes: number[] = [];
  const enc = new TextEncoder();
  for (let i = eq + 1; i < dn.length; i++) {
    const ch = dn[i] as string;
    if (ch === "," || ch === "+") break;
    if (ch !== "\\") {
      bytes.push(...enc.encode(ch));
      continue;
    }
    const pair = dn.slice(i + 1, i + 3);
    if (/^[0-9a-fA-F]{2}$/.test(pair)) {
      bytes.push(parseInt(pair, 16));
      i += 2;
    } else if (i + 1 < dn.length) {
      bytes.push(...enc.encode(dn[i + 1] as string));
      i += 1;
    } else return undefined;
  }
  const value = new TextDecoder("utf-8", { fatal: false }).decode(Uint8Array.from(bytes)).trim();
  return value === "" ? undefined : value;
}
