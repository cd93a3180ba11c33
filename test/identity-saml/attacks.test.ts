import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SAML, ValidateInResponseTo } from "@node-saml/node-saml";
import { MemoryReplayGuard, StoreReplayGuard } from "../../src/identity/providers/saml/index.js";
import { Store } from "../../src/store/index.js";
import { freshDatabases } from "../harness/databases.js";
import { Browser, signInAtIdp } from "./browser.js";
import {
  acsOf,
  complete,
  decode,
  encode,
  entityOf,
  EVIL_ACS,
  GH,
  expectRefused,
  startAndSignIn,
  startSamlFixture,
  type SamlFixture,
} from "./fixture.js";

const SIGNATURE = /<ds:Signature\b[\s\S]*?<\/ds:Signature>/g;
const ASSERTION = /<saml:Assertion\b[\s\S]*<\/saml:Assertion>/;

/** The signed assertion of a response, as SimpleSAMLphp wrote it. */
function assertionOf(xml: string): string {
  const m = ASSERTION.exec(xml);
  if (!m) throw new Error(`no assertion in ${xml.slice(0, 300)}`);
  return m[0];
}

/** An attacker's assertion: the real one with its signature removed, a new ID and another person. */
function forged(assertion: string): string {
  return assertion
    .replace(SIGNATURE, "")
    .replace(/ ID="[^"]+"/, ' ID="_forged0000000000000000000000000000000000"')
    .replace(/>alice</g, ">mallory<")
    .replace(/>ops</, ">cluster-admins<");
}

describe("SAML attacks are refused", () => {
  let fx: SamlFixture;
  beforeAll(async () => {
    fx = await startSamlFixture();
  });
  afterAll(async () => {
    await fx?.stop();
  });

  it("refuses signature wrapping: an unsigned assertion beside the signed one", async () => {
    const p = fx.provider("corp");
    const { start, post, acs } = await startAndSignIn(fx, p);
    const xml = decode(post.SAMLResponse);
    const signed = assertionOf(xml);
    const wrapped = xml.replace(signed, `${forged(signed)}${signed}`);
    await expectRefused(complete(p, acs, encode(wrapped), start.pending), "multiple-assertions");
    // The untouched response still signs alice in: the refusal came from the wrapping.
    expect((await complete(p, acs, post.SAMLResponse, start.pending)).username).toBe("alice");
  });

  it("refuses signature wrapping: the signed assertion hidden in Extensions, a forged one in its place", async () => {
    // Only the assertion is signed here, so the response itself can be rearranged freely.
    const p = fx.provider("assertiononly");
    const { start, post, acs } = await startAndSignIn(fx, p);
    const xml = decode(post.SAMLResponse);
    const signed = assertionOf(xml);
    const wrapped = xml
      .replace(signed, forged(signed))
      .replace("<samlp:Status>", `<samlp:Extensions>${signed}</samlp:Extensions><samlp:Status>`);
    await expectRefused(complete(p, acs, encode(wrapped), start.pending), "signature");
  });

  it("refuses a response the IdP did not sign at all", async () => {
    const p = fx.provider("unsigned", { wantAssertionsSigned: false, wantResponseSigned: false });
    const { start, post, acs } = await startAndSignIn(fx, p);
    expect(decode(post.SAMLResponse)).not.toContain("<ds:Signature");
    await expectRefused(complete(p, acs, post.SAMLResponse, start.pending), "signature");
  });

  it("refuses a signed response with its signatures stripped", async () => {
    const p = fx.provider("corp", { wantAssertionsSigned: false });
    const { start, post, acs } = await startAndSignIn(fx, p);
    const stripped = decode(post.SAMLResponse).replace(SIGNATURE, "");
    await expectRefused(complete(p, acs, encode(stripped), start.pending), "signature");
  });

  it("refuses a response where only the response is signed while assertions must be", async () => {
    const p = fx.provider("responseonly");
    const { start, post, acs } = await startAndSignIn(fx, p);
    await expectRefused(complete(p, acs, post.SAMLResponse, start.pending), "signature");
  });

  it("refuses an attribute changed after signing", async () => {
    const p = fx.provider("corp");
    const { start, post, acs } = await startAndSignIn(fx, p);
    const xml = decode(post.SAMLResponse);
    expect(xml).toContain(">developers<");
    const tampered = xml.replace(">developers<", ">cluster-admins<");
    await expectRefused(complete(p, acs, encode(tampered), start.pending), "signature");
  });

  it("reads the whole name when an XML comment splits it inside the signed assertion", async () => {
    // Exclusive canonicalization drops comments, so the signature still holds; a reader of the raw
    // XML that stopped at the comment would see "ali" (the 2018 SAML comment-truncation bugs).
    const p = fx.provider("corp", { usernameAttribute: "uid" });
    const { start, post, acs } = await startAndSignIn(fx, p);
    const xml = decode(post.SAMLResponse);
    const split = xml.replace(/>alice</g, ">ali<!---->ce<");
    expect(split).not.toBe(xml);
    // Only the signed, canonical XML is read: the name is whole.
    expect((await complete(p, acs, encode(split), start.pending)).username).toBe("alice");
  });

  it("refuses a replayed assertion", async () => {
    const p = fx.provider("corp", {}, { replay: new MemoryReplayGuard() });
    const { start, post, acs } = await startAndSignIn(fx, p);
    expect((await complete(p, acs, post.SAMLResponse, start.pending)).username).toBe("alice");
    await expectRefused(complete(p, acs, post.SAMLResponse, start.pending), "replay");
  });

  it("refuses an assertion for another audience", async () => {
    const p = fx.provider("corp", { audience: "https://other-sp.example/" });
    const { start, post, acs } = await startAndSignIn(fx, p);
    await expectRefused(complete(p, acs, post.SAMLResponse, start.pending), "audience");
  });

  it("refuses a response to another sign-in request (wrong InResponseTo)", async () => {
    const p = fx.provider("corp");
    const first = await startAndSignIn(fx, p);
    const other = await p.begin(acsOf("corp"), "another-state", AbortSignal.timeout(10_000));
    await expectRefused(complete(p, first.acs, first.post.SAMLResponse, other.pending), "in-response-to");
  });

  it("refuses a response sent to another ACS URL, even when it answers our request ID", async () => {
    // An attacker copies Gatehouse's request ID into an AuthnRequest of their own that asks the IdP
    // to answer at another ACS URL the SP registered.
    const p = fx.provider("corp");
    const ours = await p.begin(acsOf("corp"), "state-evil", AbortSignal.timeout(10_000));
    const requestId = (JSON.parse(ours.pending) as { id: string }).id;
    const attacker = new SAML({
      entryPoint: fx.idp.ssoURL,
      issuer: entityOf("corp"),
      callbackUrl: EVIL_ACS,
      idpCert: fx.idp.certPem,
      identifierFormat: null,
      disableRequestedAuthnContext: true,
      validateInResponseTo: ValidateInResponseTo.never,
      generateUniqueId: () => requestId,
    });
    const url = await attacker.getAuthorizeUrlAsync("state-evil", undefined, {});
    const post = await signInAtIdp(new Browser(), url, "alice", "alice-pass-1");
    expect(post.acs).toBe(EVIL_ACS);
    expect(decode(post.SAMLResponse)).toContain(`InResponseTo="${requestId}"`);
    await expectRefused(complete(p, acsOf("corp"), post.SAMLResponse, ours.pending), "destination");
  });

  it("refuses an assertion whose signed Recipient is another ACS URL", async () => {
    // A genuine response for the assertiononly ACS (its Destination is not covered by a signature
    // there, so an attacker can drop it), presented at another ACS of the same SP entity.
    const p = fx.provider("assertiononly");
    const { start, post } = await startAndSignIn(fx, p);
    const undirected = decode(post.SAMLResponse).replace(/ Destination="[^"]+"/, "");
    const otherACS = `${GH}/idp/other/callback`;
    const atOther = fx.provider("assertiononly", { entityID: entityOf("assertiononly") });
    const pending = JSON.stringify({ ...(JSON.parse(start.pending) as object), acs: otherACS });
    await expectRefused(complete(atOther, otherACS, encode(undirected), pending), "recipient");
  });

  it("refuses an expired assertion (clock moved past NotOnOrAfter)", async () => {
    let offset = 0;
    const p = fx.provider("corp", {}, { now: () => Date.now() + offset });
    const { start, post, acs } = await startAndSignIn(fx, p);
    // SimpleSAMLphp's assertions live 5 minutes; the sign-in request itself lives 10.
    offset = 6 * 60_000;
    await expectRefused(complete(p, acs, post.SAMLResponse, start.pending), "expired");
  });

  it("refuses an assertion that is not valid yet (clock behind NotBefore)", async () => {
    let offset = 0;
    const p = fx.provider("corp", { clockSkewSeconds: 5 }, { now: () => Date.now() + offset });
    offset = -120_000;
    const { start, post, acs } = await startAndSignIn(fx, p);
    await expectRefused(complete(p, acs, post.SAMLResponse, start.pending), "not-yet-valid");
  });

  it("refuses an answer to a sign-in request older than 10 minutes", async () => {
    let offset = 0;
    const p = fx.provider("corp", {}, { now: () => Date.now() + offset });
    const { start, post, acs } = await startAndSignIn(fx, p);
    offset = 11 * 60_000;
    await expectRefused(complete(p, acs, post.SAMLResponse, start.pending), "request-expired");
  });

  it("refuses a callback without a SAMLResponse or with garbage in it", async () => {
    const p = fx.provider("corp");
    const start = await p.begin(acsOf("corp"), "s", AbortSignal.timeout(10_000));
    await expectRefused(
      p.complete(
        acsOf("corp"),
        new URLSearchParams({ RelayState: "s" }),
        start.pending,
        AbortSignal.timeout(5_000),
      ),
      "missing-response",
    );
    await expectRefused(complete(p, acsOf("corp"), encode("<not-saml"), start.pending), "malformed");
    await expectRefused(
      complete(p, acsOf("corp"), encode('<!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>'), start.pending),
      "malformed",
    );
    await expectRefused(complete(p, acsOf("corp"), post404(), "{not json"), "in-response-to");
  });

  it("does not sign in with an IdP that requires signed requests when the request is unsigned", async () => {
    const p = fx.provider("signedreq");
    await expect(startAndSignIn(fx, p)).rejects.toThrow(/no login or SAMLResponse form|did not answer/);
  });
});

function post404(): string {
  return encode("<samlp:Response xmlns:samlp='urn:oasis:names:tc:SAML:2.0:protocol'/>");
}

describe("the replay guard in the store is shared by replicas", async () => {
  for (const db of await freshDatabases()) {
    it(`lets exactly one replica use an assertion, and forgets expired ones (${db.name})`, async () => {
      const store = await Store.open(db.location);
      try {
        const replicaA = new StoreReplayGuard(store);
        const replicaB = new StoreReplayGuard(store);
        const now = Date.now();
        const both = await Promise.all([
          replicaA.claim("corp", "https://idp", "_a1", now + 60_000, now),
          replicaB.claim("corp", "https://idp", "_a1", now + 60_000, now),
        ]);
        expect(both.filter(Boolean)).toHaveLength(1);
        expect(await replicaA.claim("corp", "https://idp", "_a1", now + 60_000, now)).toBe(false);
        // Another provider or IdP may use the same assertion ID.
        expect(await replicaA.claim("other", "https://idp", "_a1", now + 60_000, now)).toBe(true);
        expect(await replicaA.claim("corp", "https://other-idp", "_a1", now + 60_000, now)).toBe(true);
        // Rows past their expiry are pruned (an expired assertion is refused before the guard anyway).
        const later = now + 10 * 60_000;
        expect(
          await new StoreReplayGuard(store).claim("corp", "https://idp", "_a2", later + 60_000, later),
        ).toBe(true);
        const left = await store.db
          .withTables<{ saml_assertion_ids: { id: string; expires_at: number } }>()
          .selectFrom("saml_assertion_ids")
          .select("expires_at")
          .execute();
        expect(left.map((r) => Number(r.expires_at))).toEqual([later + 60_000]);
      } finally {
        await store.close();
      }
    });
  }
});
