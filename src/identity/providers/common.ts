import { readFileSync } from "node:fs";
import type { ExternalIdentity, IdentityProvider, ProviderCommon } from "./types.js";

export const IDENTITY_PROVIDER_KIND = "IdentityProvider";
export const PROVIDER_TYPES = ["oidc", "oauth2", "github", "ldap", "saml"] as const;
export type ProviderType = IdentityProvider["type"];
export const DEFAULT_TIMEOUT_SECONDS = 10;

/** `spec` of an IdentityProvider object, as validated by `validateCommon`. */
export interface ProviderSpec {
  type: ProviderType;
  displayName?: string;
  usernamePrefix?: string;
  groupsPrefix?: string;
  timeoutSeconds?: number;
  disabled?: boolean;
  [section: string]: unknown;
}

const COMMON_FIELDS = new Set([
  "type",
  "displayName",
  "usernamePrefix",
  "groupsPrefix",
  "timeoutSeconds",
  "disabled",
]);

/** Every problem with the shared part of `spec`; the `spec.<type>` section is the factory's. */
export function validateCommon(spec: unknown): string[] {
  if (typeof spec !== "object" || spec === null || Array.isArray(spec)) return ["spec: required"];
  const s = spec as Record<string, unknown>;
  const problems: string[] = [];
  const type = s["type"];
  if (typeof type !== "string" || !(PROVIDER_TYPES as readonly string[]).includes(type))
    problems.push(`spec.type: must be one of ${PROVIDER_TYPES.join(", ")}`);
  for (const f of ["displayName", "usernamePrefix", "groupsPrefix"] as const)
    if (s[f] !== undefined && (typeof s[f] !== "string" || (s[f] as string).length > 200))
      problems.push(`spec.${f}: must be a string of at most 200 characters`);
  const t = s["timeoutSeconds"];
  if (t !== undefined && (typeof t !== "number" || !Number.isInteger(t) || t < 1 || t > 120))
    problems.push("spec.timeoutSeconds: must be a whole number of seconds from 1 to 120");
  if (s["disabled"] !== undefined && typeof s["disabled"] !== "boolean")
    problems.push("spec.disabled: must be true or false");
  for (const k of Object.keys(s))
    if (!COMMON_FIELDS.has(k) && k !== type)
      problems.push(
        (PROVIDER_TYPES as readonly string[]).includes(k)
          ? `spec.${k}: only spec.${String(type)} may be set for type ${String(type)}`
          : `spec.${k}: unknown field`,
      );
  if (typeof type === "string" && (typeof s[type] !== "object" || s[type] === null || Array.isArray(s[type])))
    problems.push(`spec.${type}: required: the settings of the ${type} provider`);
  return problems;
}

/** The shared settings of a validated spec, for `ProviderFactory.create`. */
export function commonOf(name: string, spec: ProviderSpec): ProviderCommon {
  return {
    name,
    displayName: spec.displayName ?? name,
    // "-" turns prefixing off, as in kube-apiserver's --oidc-username-prefix.
    usernamePrefix:
      spec.usernamePrefix === undefined || spec.usernamePrefix === "-" ? "" : spec.usernamePrefix,
    ...(spec.usernamePrefix === undefined ? { usernamePrefixDefaulted: true } : {}),
    groupsPrefix: spec.groupsPrefix ?? "",
    timeoutMs: (spec.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000,
  };
}

/** Groups as Gatehouse uses them: prefixed, sorted, without duplicates or empty names. */
export function mapGroups(prefix: string, groups: readonly string[]): string[] {
  return [...new Set(groups.filter((g) => g !== "").map((g) => prefix + g))].sort();
}

/** Strings from a claim that may be a string, an array of strings, or missing. */
export function stringsOf(v: unknown): string[] {
  if (typeof v === "string") return [v];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === "string");
  return [];
}

/** An identity with its prefixes applied; refuses an empty username. */
export function identityOf(
  common: ProviderCommon,
  prefix: string,
  subject: string,
  rawUsername: string,
  groups: readonly string[],
  extra: { email?: string; recheckState?: string } = {},
): ExternalIdentity | undefined {
  if (rawUsername === "" || subject === "") return undefined;
  return {
    provider: common.name,
    subject,
    username: prefix + rawUsername,
    groups: mapGroups(common.groupsPrefix, groups),
    ...(extra.email !== undefined ? { email: extra.email } : {}),
    ...(extra.recheckState !== undefined ? { recheckState: extra.recheckState } : {}),
  };
}

/** Validation helpers for `spec.<type>` sections: each pushes "spec.<type>.field: problem". */
export class SectionChecker {
  readonly problems: string[] = [];
  constructor(
    private readonly type: string,
    private readonly s: Record<string, unknown>,
    known: readonly string[],
  ) {
    for (const k of Object.keys(s))
      if (!known.includes(k)) this.problems.push(`spec.${type}.${k}: unknown field`);
  }
  private bad(f: string, what: string): void {
    this.problems.push(`spec.${this.type}.${f}: ${what}`);
  }
  string(f: string, required: boolean): void {
    const v = this.s[f];
    if (v === undefined) {
      if (required) this.bad(f, "required");
    } else if (typeof v !== "string" || v === "" || v.length > 8192)
      this.bad(f, "must be a non-empty string");
  }
  url(f: string, required: boolean, httpsOnly = true): void {
    const v = this.s[f];
    if (v === undefined) {
      if (required) this.bad(f, "required");
      return;
    }
    let u: URL | undefined;
    try {
      u = typeof v === "string" ? new URL(v) : undefined;
    } catch {
      u = undefined;
    }
    if (!u || (u.protocol !== "https:" && (httpsOnly || u.protocol !== "http:")))
      this.bad(f, httpsOnly ? "must be an https:// URL" : "must be an http(s):// URL");
    else if (u.username || u.password || u.hash) this.bad(f, "must not carry credentials or a fragment");
  }
  strings(f: string): void {
    const v = this.s[f];
    if (v !== undefined && (!Array.isArray(v) || v.some((x) => typeof x !== "string" || x === "")))
      this.bad(f, "must be a list of non-empty strings");
  }
  boolean(f: string): void {
    if (this.s[f] !== undefined && typeof this.s[f] !== "boolean") this.bad(f, "must be true or false");
  }
  /** `caData`: base64 of PEM CA certificates, as certificate-authority-data in a kubeconfig. */
  caData(f: string): void {
    const v = this.s[f];
    if (v === undefined) return;
    const pem = typeof v === "string" ? Buffer.from(v, "base64").toString("utf8") : "";
    if (!pem.includes("-----BEGIN CERTIFICATE-----"))
      this.bad(f, "must be base64 of PEM CA certificates (as certificate-authority-data in a kubeconfig)");
  }
}

/**
 * The CA bundle a provider's HTTPS calls trust, from `caData` (base64 PEM) or `caFile`; undefined
 * means the system's trust store. A caFile that cannot be read throws (reported by `idp test`).
 */
export function caBundleOf(section: Record<string, unknown>): string | undefined {
  const data = section["caData"];
  if (typeof data === "string") return Buffer.from(data, "base64").toString("utf8");
  const file = section["caFile"];
  if (typeof file === "string") return readFileSync(file, "utf8");
  return undefined;
}
