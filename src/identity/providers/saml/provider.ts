import { createPrivateKey, createPublicKey, randomBytes, X509Certificate } from "node:crypto";
import {
  SAML,
  ValidateInResponseTo,
  type CacheProvider,
  type Profile,
  type SamlConfig,
} from "@node-saml/node-saml";
import { identityOf, stringsOf } from "../common.js";
import { providerFetch, type ProviderFetch } from "../http.js";
import {
  ProviderUnavailableError,
  type ExternalIdentity,
  type ProviderCheck,
  type ProviderCommon,
  type RedirectProvider,
  type RedirectStart,
} from "../types.js";
import { checkAssertion, checkResponse } from "./assertion.js";
import type { SamlSettings } from "./config.js";
import { SamlRefusedError, refusalOf } from "./errors.js";
import { parseIdpMetadata, SamlMetadataError, type IdpMetadata } from "./metadata.js";
import type { ReplayGuard } from "./replay.js";
import { spMetadataXml } from "./sp-metadata.js";

/** Effects a SAML provider needs, passed in. */
export interface SamlDeps {
  replay: ReplayGuard;
  /** Epoch milliseconds; tests move it to prove the time checks. */
  now: () => number;
  /** How metadata is fetched; default: providerFetch with the section's CA and the provider timeout. */
  fetch?: ProviderFetch;
}

/** How long a person may take at the IdP between `begin` and `complete`. */
export const REQUEST_TTL_MS = 10 * 60_000;
/** Metadata fetched from a URL is fetched again after this long (IdP key rotation is followed). */
export const METADATA_REFRESH_MS = 60 * 60_000;
/** How often a failed signature may make us read the IdP metadata again (key rollover). */
const ROLLOVER_CHECK_MS = 60_000;
const TRANSIENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient";
const MAX_RESPONSE_BYTES = 512 * 1024;
const CERT_EXPIRY_WARNING_MS = 14 * 86_400_000;

interface Pending {
  v: 1;
  /** AuthnRequest ID. */
  id: string;
  /** When the request was made (epoch ms). */
  at: number;
  /** The ACS URL the request named. */
  acs: string;
}

/** The SP entity ID that defaults from the callback URL: Gatehouse URL + /idp/NAME. */
export function defaultEntityID(callbackUrl: string): string {
  return callbackUrl.replace(/\/callback$/, "");
}

/**
 * A SAML 2.0 service provider for one IdentityProvider object: AuthnRequests over the HTTP-Redirect
 * binding, responses over HTTP-POST to the callback (the Assertion Consumer Service). node-saml
 * verifies signatures and hands back only the signed assertion; checkAssertion() then applies our
 * own rules to that signed XML; the replay guard makes each assertion usable once.
 */
export class SamlProvider implements RedirectProvider {
  readonly flow = "redirect" as const;
  readonly type = "saml" as const;
  readonly name: string;
  readonly displayName: string;
  private readonly fetchImpl: ProviderFetch;
  private cached: { metadata: IdpMetadata; at: number } | undefined;

  constructor(
    private readonly common: ProviderCommon,
    readonly settings: SamlSettings,
    private readonly deps: SamlDeps,
  ) {
    this.name = common.name;
    this.displayName = common.displayName;
    this.fetchImpl = deps.fetch ?? providerFetch(common.name, settings.ca, common.timeoutMs);
  }

  /** The IdP's metadata: parsed inline, or fetched (cached; a failed refresh keeps the last good copy). */
  async idpMetadata(signal: AbortSignal, fresh = false): Promise<IdpMetadata> {
    const m = this.settings.metadata;
    const now = this.deps.now();
    if (!fresh && this.cached && (m.kind === "inline" || now - this.cached.at < METADATA_REFRESH_MS))
      return this.cached.metadata;
    try {
      const xml = m.kind === "inline" ? m.xml : await this.download(m.url, signal);
      const metadata = parseIdpMetadata(xml, this.settings.idpEntityID);
      this.cached = { metadata, at: now };
      return metadata;
    } catch (e) {
      if (this.cached && !fresh) return this.cached.metadata;
      throw e;
    }
  }

  /**
   * Fresh metadata when it is fetched from a URL, the cached copy is over a minute old and the
   * signing certificates changed; undefined otherwise.
   */
  private async rolledOver(signal: AbortSignal): Promise<IdpMetadata | undefined> {
    const before = this.cached;
    if (this.settings.metadata.kind !== "url" || !before || this.deps.now() - before.at < ROLLOVER_CHECK_MS)
      return undefined;
    try {
      const now = await this.idpMetadata(signal, true);
      return now.certificates.join() !== before.metadata.certificates.join() ? now : undefined;
    } catch {
      return undefined;
    }
  }

  private async download(url: string, signal: AbortSignal): Promise<string> {
    const r = await this.fetchImpl(url, {
      signal,
      headers: { accept: "application/samlmetadata+xml, application/xml, text/xml" },
    });
    if (!r.ok)
      throw new ProviderUnavailableError(this.name, `the IdP metadata URL ${url} answered HTTP ${r.status}`);
    return r.text();
  }

  spEntityID(callbackUrl: string): string {
    return this.settings.entityID ?? defaultEntityID(callbackUrl);
  }

  private samlFor(callbackUrl: string, idp: IdpMetadata, extra: Partial<SamlConfig>): SAML {
    const s = this.settings;
    return new SAML({
      callbackUrl,
      entryPoint: idp.ssoURL,
      issuer: this.spEntityID(callbackUrl),
      idpCert: idp.certificates,
      idpIssuer: idp.entityID,
      audience: s.audience ?? this.spEntityID(callbackUrl),
      wantAssertionsSigned: s.wantAssertionsSigned,
      wantAuthnResponseSigned: s.wantResponseSigned,
      acceptedClockSkewMs: s.clockSkewMs,
      identifierFormat: s.nameIDFormat ?? null,
      disableRequestedAuthnContext: true,
      validateInResponseTo: ValidateInResponseTo.always,
      requestIdExpirationPeriodMs: REQUEST_TTL_MS,
      signatureAlgorithm: "sha256",
      ...(s.spPrivateKey !== undefined ? { privateKey: s.spPrivateKey } : {}),
      ...extra,
    });
  }

  async begin(callbackUrl: string, state: string, signal: AbortSignal): Promise<RedirectStart> {
    const idp = await this.idpMetadata(signal);
    const id = `_${randomBytes(20).toString("hex")}`;
    const at = this.deps.now();
    const saml = this.samlFor(callbackUrl, idp, {
      generateUniqueId: () => id,
      cacheProvider: noteOnly(),
    });
    const location = await saml.getAuthorizeUrlAsync(state, undefined, {});
    const pending: Pending = { v: 1, id, at, acs: callbackUrl };
    return { location, pending: JSON.stringify(pending) };
  }

  async complete(
    callbackUrl: string,
    params: URLSearchParams,
    pendingText: string,
    signal: AbortSignal,
  ): Promise<ExternalIdentity> {
    const refuse = (code: ConstructorParameters<typeof SamlRefusedError>[1], detail?: string): never => {
      throw new SamlRefusedError(this.name, code, detail);
    };
    const pending = parsePending(pendingText);
    if (!pending || pending.acs !== callbackUrl)
      return refuse("in-response-to", "pending state unreadable or for another ACS");
    const now = this.deps.now();
    if (now - pending.at > REQUEST_TTL_MS || now < pending.at - this.settings.clockSkewMs)
      refuse("request-expired");
    const encoded = params.get("SAMLResponse");
    if (encoded === null || encoded === "") return refuse("missing-response");
    if (encoded.length > (MAX_RESPONSE_BYTES * 4) / 3 + 4) refuse("malformed", "response too large");
    const xml = Buffer.from(encoded, "base64").toString("utf8");
    if (/<!DOCTYPE/i.test(xml)) refuse("malformed", "DOCTYPE in response");

    let idp = await this.idpMetadata(signal);
    const verify = async (md: IdpMetadata): Promise<Profile | null> => {
      const saml = this.samlFor(callbackUrl, md, {
        // The one request ID this sign-in may answer, with the time it was made.
        cacheProvider: onlyRequest(pending.id, new Date(pending.at).toISOString()),
      });
      try {
        return (await saml.validatePostResponseAsync({ SAMLResponse: encoded })).profile;
      } catch (e) {
        return refuse(refusalOf(e), e instanceof Error ? e.message : String(e));
      }
    };
    let profile: Profile | null;
    try {
      profile = await verify(idp);
    } catch (e) {
      // The IdP may have rolled its signing key over: read its metadata again (at most once a
      // minute) and check the signature once more with the certificates it publishes now.
      const rolled =
        e instanceof SamlRefusedError && e.code === "signature" ? await this.rolledOver(signal) : undefined;
      if (!rolled) throw e;
      idp = rolled;
      profile = await verify(idp);
    }
    if (!profile || typeof profile.getAssertionXml !== "function") return refuse("malformed", "no assertion");
    const expect = {
      provider: this.name,
      issuer: idp.entityID,
      acsURL: callbackUrl,
      audience: this.settings.audience ?? this.spEntityID(callbackUrl),
      requestId: pending.id,
      now,
      skewMs: this.settings.clockSkewMs,
    };
    checkResponse(xml, expect);
    const accepted = checkAssertion(profile.getAssertionXml(), expect);

    const attrs = (
      typeof profile["attributes"] === "object" && profile["attributes"] !== null ? profile["attributes"] : {}
    ) as Record<string, unknown>;
    const s = this.settings;
    // A transient NameID changes at every sign-in: it can be neither the username nor the subject
    // that owns the Gatehouse user, so the username attribute stands in for both.
    const transient = profile.nameIDFormat === TRANSIENT;
    if (transient && s.usernameAttribute === undefined)
      refuse("no-username", "transient NameID and no usernameAttribute");
    const usernames =
      s.usernameAttribute === undefined ? [profile.nameID] : stringsOf(attrs[s.usernameAttribute]);
    if (usernames.length !== 1 || !usernames[0]) return refuse("no-username");
    const subject = transient ? `${s.usernameAttribute ?? ""}=${usernames[0]}` : profile.nameID;
    const groups = s.groupsAttribute === undefined ? [] : stringsOf(attrs[s.groupsAttribute]);
    const email =
      s.emailAttribute !== undefined
        ? stringsOf(attrs[s.emailAttribute])[0]
        : typeof profile.email === "string"
          ? profile.email
          : undefined;

    // Last: an assertion that failed a check above is not remembered, one that passed is used once.
    if (!(await this.deps.replay.claim(this.name, idp.entityID, accepted.id, accepted.expiresAt, now)))
      refuse("replay", `assertion ${accepted.id}`);
    const identity = identityOf(this.common, this.common.usernamePrefix, subject, usernames[0], groups, {
      ...(email !== undefined ? { email } : {}),
    });
    return identity ?? refuse("no-username");
  }

  /** Gatehouse's SP metadata for this provider, to give to the IdP's administrator. */
  spMetadata(callbackUrl: string): string {
    return spMetadataXml({
      entityID: this.spEntityID(callbackUrl),
      acsURL: callbackUrl,
      wantAssertionsSigned: this.settings.wantAssertionsSigned,
      ...(this.settings.nameIDFormat !== undefined ? { nameIDFormat: this.settings.nameIDFormat } : {}),
      ...(this.settings.spPrivateKey !== undefined && this.settings.spCertificate !== undefined
        ? { signing: { privateKey: this.settings.spPrivateKey, certificate: this.settings.spCertificate } }
        : {}),
    });
  }

  async test(signal: AbortSignal): Promise<ProviderCheck[]> {
    const checks: ProviderCheck[] = [];
    const where =
      this.settings.metadata.kind === "url" ? this.settings.metadata.url : "spec.saml.idpMetadata";
    let idp: IdpMetadata;
    try {
      idp = await this.idpMetadata(signal, true);
      checks.push({
        step: "metadata",
        ok: true,
        message: `read IdP metadata from ${where}: entityID ${idp.entityID}, single sign-on at ${idp.ssoURL}`,
      });
    } catch (e) {
      const why =
        e instanceof SamlMetadataError || e instanceof ProviderUnavailableError
          ? e.message
          : "unexpected error";
      checks.push({
        step: "metadata",
        ok: false,
        message: `cannot use the IdP metadata from ${where}: ${why}. Fix spec.saml.idpMetadataURL/idpMetadata (the IdP's SAML 2.0 metadata document).`,
      });
      return checks;
    }
    const now = this.deps.now();
    const certs = idp.certificates.map((pem) => new X509Certificate(pem));
    const valid = certs.filter((c) => Date.parse(c.validFrom) <= now && now < Date.parse(c.validTo));
    const soonest = valid.map((c) => Date.parse(c.validTo)).sort((a, b) => a - b)[0];
    checks.push(
      valid.length === 0
        ? {
            step: "certificates",
            ok: false,
            message: `none of the IdP's ${certs.length} signing certificate(s) is valid now (${certs.map((c) => `${c.subject.replace(/\n/g, ", ")} valid ${c.validFrom} to ${c.validTo}`).join("; ")}): ask the IdP's administrator to renew it and publish new metadata`,
          }
        : {
            step: "certificates",
            ok: true,
            message:
              `${valid.length} of ${certs.length} signing certificate(s) valid now` +
              (soonest !== undefined && soonest - now < CERT_EXPIRY_WARNING_MS
                ? `; one expires ${new Date(soonest).toISOString()}: renew it soon`
                : ""),
          },
    );
    try {
      const r = await this.fetchImpl(idp.ssoURL, { signal });
      checks.push({
        step: "single sign-on",
        ok: r.status < 500,
        message:
          r.status < 500
            ? `the IdP's single sign-on URL ${idp.ssoURL} answers (HTTP ${r.status} without a request)`
            : `the IdP's single sign-on URL ${idp.ssoURL} answers HTTP ${r.status}: the IdP has a problem`,
      });
    } catch (e) {
      checks.push({
        step: "single sign-on",
        ok: false,
        message: `cannot reach the IdP's single sign-on URL ${idp.ssoURL}: ${e instanceof ProviderUnavailableError ? e.message : "connection failed"}; browsers must reach it too`,
      });
    }
    if (this.settings.spPrivateKey !== undefined && this.settings.spCertificate !== undefined) {
      checks.push(spKeyCheck(this.settings.spPrivateKey, this.settings.spCertificate, now));
    }
    return checks;
  }
}

function spKeyCheck(keyPem: string, certPem: string, now: number): ProviderCheck {
  try {
    const cert = new X509Certificate(certPem);
    const same = createPublicKey(createPrivateKey(keyPem))
      .export({ format: "der", type: "spki" })
      .equals(cert.publicKey.export({ format: "der", type: "spki" }));
    if (!same)
      return {
        step: "SP signing key",
        ok: false,
        message: "spec.saml.spPrivateKey does not belong to spec.saml.spCertificate",
      };
    if (now >= Date.parse(cert.validTo))
      return {
        step: "SP signing key",
        ok: false,
        message: `spec.saml.spCertificate expired on ${cert.validTo}: make a new one and give the IdP the new SP metadata`,
      };
    return {
      step: "SP signing key",
      ok: true,
      message: `AuthnRequests are signed; the certificate is valid until ${cert.validTo}`,
    };
  } catch {
    return {
      step: "SP signing key",
      ok: false,
      message: "spec.saml.spPrivateKey or spCertificate cannot be read",
    };
  }
}

function parsePending(text: string): Pending | undefined {
  try {
    const p = JSON.parse(text) as Partial<Pending>;
    if (p.v === 1 && typeof p.id === "string" && typeof p.at === "number" && typeof p.acs === "string")
      return p as Pending;
  } catch {
    // fall through: unreadable pending state refuses the sign-in
  }
  return undefined;
}

/** A node-saml cache that accepts the request node-saml notes at `begin` and remembers nothing. */
function noteOnly(): CacheProvider {
  return {
    saveAsync: (_k, value) => Promise.resolve({ value, createdAt: Date.now() }),
    getAsync: () => Promise.resolve(null),
    removeAsync: () => Promise.resolve(null),
  };
}

/** A node-saml cache that knows exactly one outstanding request: the one this sign-in sent. */
function onlyRequest(id: string, createdAt: string): CacheProvider {
  return {
    saveAsync: () => Promise.resolve(null),
    getAsync: (k) => Promise.resolve(k === id ? createdAt : null),
    removeAsync: () => Promise.resolve(null),
  };
}
