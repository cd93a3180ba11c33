import { inflateRawSync } from "node:zlib";
import { expect } from "vitest";
import type { SamlProvider } from "../../src/identity/providers/saml/index.js";
import {
  createSamlFactory,
  MemoryReplayGuard,
  type ReplayGuard,
} from "../../src/identity/providers/saml/index.js";
import type { ExternalIdentity, ProviderCommon, RedirectStart } from "../../src/identity/providers/index.js";
import { rsaCertificate, startSimpleSamlPhp, type SimpleSamlPhp } from "../harness/simplesamlphp.js";
import { Browser, signInAtIdp, type SamlPost } from "./browser.js";

/** Gatehouse as the IdP knows it: one SP entity per provider name, each with its own IdP settings. */
export const GH = "https://gatehouse.test";
export const entityOf = (name: string): string => `${GH}/idp/${name}`;
export const acsOf = (name: string): string => `${GH}/idp/${name}/callback`;
/** An ACS URL the `corp` SP also registered at the IdP: where an attacker would have a response sent. */
export const EVIL_ACS = "https://evil.test/saml/acs";

export interface SamlFixture {
  idp: SimpleSamlPhp;
  /** Key and certificate `signedreq` signs its AuthnRequests with. */
  spKey: { certPem: string; keyPem: string };
  /** A provider for the SP entity `name`, with `section` added to the IdP metadata URL. */
  provider(
    name: string,
    section?: Record<string, unknown>,
    opts?: { now?: () => number; replay?: ReplayGuard; common?: Partial<ProviderCommon> },
  ): SamlProvider;
  stop(): Promise<void>;
}

/**
 * SimpleSAMLphp with these service providers:
 * - corp: responses and assertions signed (SimpleSAMLphp's default); also registers EVIL_ACS;
 * - assertiononly: only the assertion signed; responseonly: only the response signed;
 * - unsigned: nothing signed; signedreq: requires signed AuthnRequests;
 * - transient: a new random NameID at every sign-in.
 */
export async function startSamlFixture(): Promise<SamlFixture> {
  const spKey = await rsaCertificate("Gatehouse SP", new Date(Date.now() - 60_000), 2);
  const idp = await startSimpleSamlPhp();
  idp.setServiceProviders([
    { entityID: entityOf("corp"), acsURL: acsOf("corp"), extraACS: [EVIL_ACS] },
    { entityID: entityOf("assertiononly"), acsURL: acsOf("assertiononly"), signResponse: false },
    { entityID: entityOf("responseonly"), acsURL: acsOf("responseonly"), signAssertion: false },
    { entityID: entityOf("unsigned"), acsURL: acsOf("unsigned"), signResponse: false, signAssertion: false },
    { entityID: entityOf("signedreq"), acsURL: acsOf("signedreq"), requestSigningCert: spKey.certPem },
    {
      entityID: entityOf("transient"),
      acsURL: acsOf("transient"),
      nameIDFormat: "urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
    },
  ]);
  const shared = new MemoryReplayGuard();
  return {
    idp,
    spKey,
    provider(name, section = {}, opts = {}) {
      const factory = createSamlFactory({
        replay: opts.replay ?? shared,
        now: opts.now ?? (() => Date.now()),
      });
      const full = { idpMetadataURL: idp.metadataURL, groupsAttribute: "groups", ...section };
      expect(factory.validate(full)).toEqual([]);
      return factory.create(
        { name, displayName: name, usernamePrefix: "", groupsPrefix: "", timeoutMs: 5_000, ...opts.common },
        full,
      ) as SamlProvider;
    },
    stop: () => idp.stop(),
  };
}

const signal = (): AbortSignal => AbortSignal.timeout(10_000);

/** Start a sign-in at `provider` and sign in at the IdP as `user`; the SAMLResponse is not yet posted. */
export async function startAndSignIn(
  fx: SamlFixture,
  provider: SamlProvider,
  user = "alice",
): Promise<{ start: RedirectStart; post: SamlPost; acs: string }> {
  const acs = acsOf(provider.name);
  const start = await provider.begin(acs, `state-${provider.name}`, signal());
  const u = fx.idp.users.find((x) => x.username === user);
  if (!u) throw new Error(`no test user ${user}`);
  const post = await signInAtIdp(new Browser(), start.location, u.username, u.password);
  return { start, post, acs };
}

/** Post a SAMLResponse to the provider as the callback route does. */
export function complete(
  provider: SamlProvider,
  acs: string,
  samlResponse: string,
  pending: string,
): Promise<ExternalIdentity> {
  return provider.complete(
    acs,
    new URLSearchParams({ SAMLResponse: samlResponse, RelayState: "x" }),
    pending,
    signal(),
  );
}

export const decode = (b64: string): string => Buffer.from(b64, "base64").toString("utf8");
export const encode = (xml: string): string => Buffer.from(xml, "utf8").toString("base64");

/** The AuthnRequest XML inside an HTTP-Redirect binding URL. */
export function authnRequestOf(location: string): string {
  const req = new URL(location).searchParams.get("SAMLRequest") ?? "";
  return inflateRawSync(Buffer.from(req, "base64")).toString("utf8");
}

/** Expect a refusal with this code whose message leaks nothing from the response or the keys. */
export async function expectRefused(p: Promise<unknown>, code: string): Promise<Error> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err as Error & { code?: string },
  );
  expect(e, `expected a refusal (${code}), got a sign-in`).toBeInstanceOf(Error);
  const err = e as Error & { code?: string };
  expect(err.name).toBe("SamlRefusedError");
  expect(err.code).toBe(code);
  expect(err.message).toMatch(/^SAML sign-in with \S+ refused \(/);
  expect(err.message).not.toMatch(/<|MII|alice|mallory|_[0-9a-f]{20}/);
  return err;
}
