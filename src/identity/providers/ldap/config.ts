/**
 * `spec.ldap` of an IdentityProvider object: checked (every problem with its path), normalised
 * (defaults filled in) and frozen before a provider is built from it.
 */

export type SearchScope = "base" | "one" | "sub";

export interface LdapSettings {
  url: string;
  startTLS: boolean;
  caData?: string;
  caFile?: string;
  /** Certificate checks off: only when explicitly set, and `test()` warns about it. */
  insecureSkipVerify: boolean;
  /** Plain ldap:// without StartTLS (passwords in clear): only when explicitly set. */
  insecurePlaintext: boolean;
  bindDN: string;
  bindPassword: string;
  userSearch: {
    baseDN: string;
    filter: string;
    usernameAttribute: string;
    scope: SearchScope;
  };
  /** Groups found by searching for group entries that list the user (member / uniqueMember / memberUid). */
  groupSearch?: {
    baseDN: string;
    filter: string;
    memberAttribute: string;
    /** `DN` for the user's DN, or an attribute of the user entry (e.g. `uid` for posixGroup memberUid). */
    userAttribute: string;
    nameAttribute: string;
    scope: SearchScope;
  };
  /** Groups read from an attribute of the user entry holding group DNs (AD / memberof overlay). */
  memberOfAttribute?: string;
  nestedGroups: boolean;
  /** Active Directory: in-chain matching rule for nested groups, userAccountControl for disabled. */
  activeDirectory: boolean;
  /** How deep recursive group resolution goes on servers without an in-chain rule. */
  maxGroupDepth: number;
  attributes: {
    /** Becomes the Gatehouse username (default: userSearch.usernameAttribute). */
    username: string;
    email: string;
    /** The stable subject (default: the entry's DN); a text attribute such as entryUUID. */
    subject?: string;
  };
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const ATTR = /^[A-Za-z][A-Za-z0-9-]*$|^[0-9]+(\.[0-9]+)*$/;

class Checker {
  readonly errors: string[] = [];
  constructor(private readonly path: string) {}

  str(
    o: Obj,
    key: string,
    opts: { required?: boolean; dflt?: string; re?: RegExp; what?: string } = {},
  ): string {
    const v = o[key];
    const p = `${this.path}.${key}`;
    if (v === undefined || v === "") {
      if (opts.required) this.errors.push(`${p}: required`);
      return opts.dflt ?? "";
    }
    if (typeof v !== "string") {
      this.errors.push(`${p}: must be a string`);
      return opts.dflt ?? "";
    }
    if (opts.re && !opts.re.test(v)) this.errors.push(`${p}: must be ${opts.what ?? opts.re.source}`);
    return v;
  }

  bool(o: Obj, key: string): boolean {
    const v = o[key];
    if (v === undefined) return false;
    if (typeof v !== "boolean") this.errors.push(`${this.path}.${key}: must be true or false`);
    return v === true;
  }

  filter(o: Obj, key: string, dflt: string): string {
    const f = this.str(o, key, { dflt });
    if (!balancedFilter(f))
      this.errors.push(`${this.path}.${key}: must be one LDAP filter in parentheses, e.g. ${dflt}`);
    return f;
  }

  scope(o: Obj, key: string): SearchScope {
    const v = this.str(o, key, { dflt: "sub" });
    if (v !== "base" && v !== "one" && v !== "sub") {
      this.errors.push(`${this.path}.${key}: must be base, one or sub`);
      return "sub";
    }
    return v;
  }

  sub(o: Obj, key: string): [Obj | undefined, Checker] {
    const c = new Checker(`${this.path}.${key}`);
    const v = o[key];
    if (v !== undefined && !isObj(v)) this.errors.push(`${this.path}.${key}: must be an object`);
    return [isObj(v) ? v : undefined, c];
  }
}

/** A filter is one parenthesised expression with balanced, unescaped parentheses. */
function balancedFilter(f: string): boolean {
  if (!f.startsWith("(") || !f.endsWith(")")) return false;
  let depth = 0;
  for (let i = 0; i < f.length; i++) {
    const ch = f[i];
    if (ch === "\\") i += 2;
    else if (ch === "(") depth++;
    else if (ch === ")") {
      depth--;
      if (depth === 0 && i !== f.length - 1) return false;
      if (depth < 0) return false;
    }
  }
  return depth === 0 && !f.includes("\0");
}

/** Check and normalise `spec.ldap`: the settings, or every problem found. */
export function parseLdapSection(
  section: Obj,
  path = "spec.ldap",
): { settings?: LdapSettings; errors: string[] } {
  const c = new Checker(path);
  const url = c.str(section, "url", {
    required: true,
    re: /^ldaps?:\/\/[^/?#\s]+\/?$/,
    what: "ldap://HOST[:PORT] or ldaps://HOST[:PORT]",
  });
  const startTLS = c.bool(section, "startTLS");
  const insecureSkipVerify = c.bool(section, "insecureSkipVerify");
  const insecurePlaintext = c.bool(section, "insecurePlaintext");
  if (url.startsWith("ldaps://") && startTLS)
    c.errors.push(`${path}.startTLS: ldaps:// is already TLS; StartTLS is for ldap:// URLs`);
  if (url.startsWith("ldap://") && !startTLS && !insecurePlaintext)
    c.errors.push(
      `${path}.url: ldap:// without startTLS sends passwords in clear; use ldaps://, set startTLS: true, or (never in production) insecurePlaintext: true`,
    );
  const caData = c.str(section, "caData", { re: /-----BEGIN CERTIFICATE-----/, what: "PEM certificates" });
  const caFile = c.str(section, "caFile");
  if (caData && caFile) c.errors.push(`${path}: set caData or caFile, not both`);
  if (insecureSkipVerify && (caData || caFile))
    c.errors.push(`${path}.insecureSkipVerify: a CA is configured; remove insecureSkipVerify to use it`);
  const bindDN = c.str(section, "bindDN", { required: true });
  const bindPassword = c.str(section, "bindPassword", { required: true });

  const [us, uc] = c.sub(section, "userSearch");
  if (!us)
    c.errors.push(
      `${path}.userSearch: required (baseDN, and usernameAttribute such as uid or sAMAccountName)`,
    );
  const userSearch = {
    baseDN: uc.str(us ?? {}, "baseDN", { required: true }),
    filter: uc.filter(us ?? {}, "filter", "(objectClass=person)"),
    usernameAttribute: uc.str(us ?? {}, "usernameAttribute", {
      dflt: "uid",
      re: ATTR,
      what: "an attribute name",
    }),
    scope: uc.scope(us ?? {}, "scope"),
  };
  c.errors.push(...(us ? uc.errors : []));

  const [gs, gc] = c.sub(section, "groupSearch");
  const groupSearch = gs && {
    baseDN: gc.str(gs, "baseDN", { required: true }),
    filter: gc.filter(
      gs,
      "filter",
      "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=group))",
    ),
    memberAttribute: gc.str(gs, "memberAttribute", { dflt: "member", re: ATTR, what: "an attribute name" }),
    userAttribute: gc.str(gs, "userAttribute", { dflt: "DN", re: ATTR, what: "DN or an attribute name" }),
    nameAttribute: gc.str(gs, "nameAttribute", { dflt: "cn", re: ATTR, what: "an attribute name" }),
    scope: gc.scope(gs, "scope"),
  };
  c.errors.push(...gc.errors);
  const memberOfAttribute = c.str(section, "memberOfAttribute", {
    re: ATTR,
    what: "an attribute name such as memberOf",
  });
  if (groupSearch && memberOfAttribute)
    c.errors.push(`${path}: set groupSearch or memberOfAttribute, not both`);
  const nestedGroups = c.bool(section, "nestedGroups");
  const activeDirectory = c.bool(section, "activeDirectory");
  if (nestedGroups && !groupSearch && !memberOfAttribute)
    c.errors.push(`${path}.nestedGroups: needs groupSearch or memberOfAttribute`);
  const depth = section["maxGroupDepth"] ?? 10;
  if (typeof depth !== "number" || !Number.isInteger(depth) || depth < 1 || depth > 50)
    c.errors.push(`${path}.maxGroupDepth: must be a whole number from 1 to 50`);

  const [at, ac] = c.sub(section, "attributes");
  const subject = ac.str(at ?? {}, "subject", { re: ATTR, what: "an attribute name" });
  const attributes = {
    username: ac.str(at ?? {}, "username", {
      dflt: userSearch.usernameAttribute,
      re: ATTR,
      what: "an attribute name",
    }),
    email: ac.str(at ?? {}, "email", { dflt: "mail", re: ATTR, what: "an attribute name" }),
    ...(subject ? { subject } : {}),
  };
  c.errors.push(...ac.errors);
  for (const k of Object.keys(section)) if (!KNOWN.has(k)) c.errors.push(`${path}.${k}: unknown field`);
  if (c.errors.length > 0) return { errors: c.errors };
  const settings: LdapSettings = {
    url: url.replace(/\/$/, ""),
    startTLS,
    ...(caData ? { caData } : {}),
    ...(caFile ? { caFile } : {}),
    insecureSkipVerify,
    insecurePlaintext,
    bindDN,
    bindPassword,
    userSearch,
    ...(groupSearch ? { groupSearch } : {}),
    ...(memberOfAttribute ? { memberOfAttribute } : {}),
    nestedGroups,
    activeDirectory,
    maxGroupDepth: depth as number,
    attributes,
  };
  return { settings: deepFreeze(settings), errors: [] };
}

const KNOWN = new Set([
  "url",
  "startTLS",
  "caData",
  "caFile",
  "insecureSkipVerify",
  "insecurePlaintext",
  "bindDN",
  "bindPassword",
  "userSearch",
  "groupSearch",
  "memberOfAttribute",
  "nestedGroups",
  "activeDirectory",
  "maxGroupDepth",
  "attributes",
]);

function deepFreeze<T>(o: T): T {
  if (typeof o === "object" && o !== null) {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
