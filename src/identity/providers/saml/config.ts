import { createPrivateKey, X509Certificate } from "node:crypto";
import { SectionChecker } from "../common.js";

/** `spec.saml` of an IdentityProvider, validated and with defaults applied. */
export interface SamlSettings {
  /** Where the IdP metadata comes from: fetched (and refreshed) from a URL, or given inline. */
  metadata: { kind: "url"; url: string } | { kind: "inline"; xml: string };
  /** Which entity to use when the metadata lists several identity providers. */
  idpEntityID?: string;
  /** Gatehouse's SP entity ID; undefined: the provider's base URL (Gatehouse URL + /idp/NAME). */
  entityID?: string;
  /** Expected Audience; undefined: the SP entity ID. */
  audience?: string;
  /** Attribute holding the username; undefined: the Subject's NameID. */
  usernameAttribute?: string;
  groupsAttribute?: string;
  emailAttribute?: string;
  wantAssertionsSigned: boolean;
  wantResponseSigned: boolean;
  /** NameIDPolicy Format asked for; undefined: none (the IdP's choice). */
  nameIDFormat?: string;
  clockSkewMs: number;
  /** PEM key and certificate to sign AuthnRequests with (both or neither). */
  spPrivateKey?: string;
  spCertificate?: string;
  /** CA bundle (PEM) for fetching the metadata over https; undefined: the system's. */
  ca?: string;
}

export const SAML_FIELDS = [
  "idpMetadataURL",
  "idpMetadata",
  "idpEntityID",
  "entityID",
  "audience",
  "usernameAttribute",
  "groupsAttribute",
  "emailAttribute",
  "wantAssertionsSigned",
  "wantResponseSigned",
  "nameIDFormat",
  "clockSkewSeconds",
  "spPrivateKey",
  "spCertificate",
  "caData",
  "caFile",
] as const;

export const DEFAULT_CLOCK_SKEW_SECONDS = 30;
const MAX_CLOCK_SKEW_SECONDS = 300;
/** What the kind handler puts in place of a secret it keeps sealed while validating. */
const SEALED_PLACEHOLDER = "(sealed)";

export const KEY_PAIRING =
  "spec.saml: spPrivateKey and spCertificate go together (the key signs AuthnRequests, the certificate is published in the SP metadata)";

const LOOPBACK = new Set(["127.0.0.1", "[::1]", "localhost"]);

/** Every problem with `spec.saml`, as "spec.saml.field: what is wrong". */
export function validateSaml(s: Record<string, unknown>): string[] {
  const c = new SectionChecker("saml", s, SAML_FIELDS);
  const p = c.problems;
  const url = s["idpMetadataURL"];
  const inline = s["idpMetadata"];
  if ((url === undefined) === (inline === undefined))
    p.push("spec.saml: set exactly one of idpMetadataURL (fetched) and idpMetadata (the XML itself)");
  if (url !== undefined) {
    let u: URL | undefined;
    try {
      u = typeof url === "string" ? new URL(url) : undefined;
    } catch {
      u = undefined;
    }
    if (!u || (u.protocol !== "https:" && !(u.protocol === "http:" && LOOPBACK.has(u.hostname))))
      p.push(
        "spec.saml.idpMetadataURL: must be an https:// URL (plain http only on loopback: metadata carries the keys every sign-in is checked with)",
      );
    else if (u.username || u.password || u.hash)
      p.push("spec.saml.idpMetadataURL: must not carry credentials or a fragment");
  }
  c.string("idpMetadata", false);
  for (const f of [
    "idpEntityID",
    "entityID",
    "audience",
    "usernameAttribute",
    "groupsAttribute",
    "emailAttribute",
    "nameIDFormat",
  ])
    c.string(f, false);
  c.boolean("wantAssertionsSigned");
  c.boolean("wantResponseSigned");
  const skew = s["clockSkewSeconds"];
  if (
    skew !== undefined &&
    (typeof skew !== "number" || !Number.isInteger(skew) || skew < 0 || skew > MAX_CLOCK_SKEW_SECONDS)
  )
    p.push(
      `spec.saml.clockSkewSeconds: must be a whole number of seconds from 0 to ${MAX_CLOCK_SKEW_SECONDS}`,
    );
  c.caData("caData");
  c.string("caFile", false);
  if (s["caData"] !== undefined && s["caFile"] !== undefined)
    p.push("spec.saml: set at most one of caData and caFile");
  const key = s["spPrivateKey"];
  const cert = s["spCertificate"];
  // The kind handler validates a kept (or absent) secret as a placeholder: pairing is checked again
  // with the opened secret when the provider is built.
  const keyGiven = key !== undefined && key !== SEALED_PLACEHOLDER;
  if ((keyGiven && cert === undefined) || (key === undefined && cert !== undefined)) p.push(KEY_PAIRING);
  if (key !== undefined && key !== SEALED_PLACEHOLDER) {
    try {
      if (typeof key !== "string") throw new Error();
      createPrivateKey(key);
    } catch {
      p.push("spec.saml.spPrivateKey: must be a PEM private key");
    }
  }
  if (cert !== undefined) {
    try {
      if (typeof cert !== "string") throw new Error();
      new X509Certificate(cert);
    } catch {
      p.push("spec.saml.spCertificate: must be a PEM certificate");
    }
  }
  return p;
}

/** Settings from a valid section (secrets opened); throws when the key and certificate do not pair up. */
export function samlSettingsOf(s: Record<string, unknown>, ca: string | undefined): SamlSettings {
  if ((typeof s["spPrivateKey"] === "string") !== (typeof s["spCertificate"] === "string"))
    throw new Error(KEY_PAIRING);
  const str = (f: string): string | undefined => (typeof s[f] === "string" ? (s[f] as string) : undefined);
  const opt = <K extends string>(k: K, v: string | undefined): Partial<Record<K, string>> =>
    v === undefined ? {} : ({ [k]: v } as Record<K, string>);
  const url = str("idpMetadataURL");
  return Object.freeze({
    metadata: url !== undefined ? { kind: "url", url } : { kind: "inline", xml: str("idpMetadata") ?? "" },
    ...opt("idpEntityID", str("idpEntityID")),
    ...opt("entityID", str("entityID")),
    ...opt("audience", str("audience")),
    ...opt("usernameAttribute", str("usernameAttribute")),
    ...opt("groupsAttribute", str("groupsAttribute")),
    ...opt("emailAttribute", str("emailAttribute")),
    wantAssertionsSigned: s["wantAssertionsSigned"] !== false,
    wantResponseSigned: s["wantResponseSigned"] === true,
    ...opt("nameIDFormat", str("nameIDFormat")),
    clockSkewMs:
      (typeof s["clockSkewSeconds"] === "number" ? s["clockSkewSeconds"] : DEFAULT_CLOCK_SKEW_SECONDS) * 1000,
    ...opt("spPrivateKey", str("spPrivateKey")),
    ...opt("spCertificate", str("spCertificate")),
    ...opt("ca", ca),
  } satisfies SamlSettings as SamlSettings);
}
