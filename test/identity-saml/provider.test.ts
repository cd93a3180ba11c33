import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SamlProvider } from "../../src/identity/providers/saml/index.js";
import { createSamlFactory, MemoryReplayGuard } from "../../src/identity/providers/saml/index.js";
import { freePort } from "../harness/ports.js";
import { rsaCertificate } from "../harness/simplesamlphp.js";
import {
  acsOf,
  authnRequestOf,
  complete,
  decode,
  entityOf,
  expectRefused,
  startAndSignIn,
  startSamlFixture,
  type SamlFixture,
} from "./fixture.js";

const signal = (): AbortSignal => AbortSignal.timeout(10_000);
const factory = createSamlFactory({ replay: new MemoryReplayGuard(), now: () => Date.now() });

/** IdP metadata as an IdP would publish it, for inline-metadata cases. */
function metadataXml(entityID: string, ssoURL: string, certPem: string): string {
  const body = certPem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
  return `<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="${entityID}">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${body}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${ssoURL}"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>`;
}

const common = {
  name: "inline",
  displayName: "Inline",
  usernamePrefix: "",
  groupsPrefix: "",
  timeoutMs: 3_000,
};

describe("SAML sign-in against SimpleSAMLphp", () => {
  let fx: SamlFixture;
  beforeAll(async () => {
    fx = await startSamlFixture();
  });
  afterAll(async () => {
    await fx?.stop();
  });

  it("signs a person in with the NameID as username, groups and email from attributes", async () => {
    const p = fx.provider("corp", { emailAttribute: "mail" }, { common: { groupsPrefix: "saml:" } });
    const { start, post, acs } = await startAndSignIn(fx, p, "alice");
    expect(post.acs).toBe(acs);
    expect(post.RelayState).toBe("state-corp");
    const id = await complete(p, acs, post.SAMLResponse, start.pending);
    expect(id).toEqual({
      provider: "corp",
      subject: "alice",
      username: "alice",
      groups: ["saml:developers", "saml:ops"],
      email: "alice@example.org",
    });
  });

  it("takes the username from a configured attribute, with the username prefix", async () => {
    const p = fx.provider("corp", { usernameAttribute: "mail" }, { common: { usernamePrefix: "corp:" } });
    const { start, post, acs } = await startAndSignIn(fx, p, "bob");
    const id = await complete(p, acs, post.SAMLResponse, start.pending);
    expect(id.username).toBe("corp:bob@example.org");
    expect(id.subject).toBe("bob");
    expect(id.groups).toEqual(["viewers"]);
    expect(id.email).toBe("bob@example.org");
  });

  it("takes username and subject from the username attribute when the NameID is transient", async () => {
    const p = fx.provider("transient", { usernameAttribute: "uid" });
    const ids = [];
    for (let i = 0; i < 2; i++) {
      const { start, post, acs } = await startAndSignIn(fx, p);
      expect(decode(post.SAMLResponse)).toContain("nameid-format:transient");
      ids.push(await complete(p, acs, post.SAMLResponse, start.pending));
    }
    // The same subject at every sign-in, so the Gatehouse user stays owned by the same identity.
    expect(ids.map((i) => [i.username, i.subject])).toEqual([
      ["alice", "uid=alice"],
      ["alice", "uid=alice"],
    ]);
  });

  it("refuses a transient NameID as the username", async () => {
    const p = fx.provider("transient");
    const { start, post, acs } = await startAndSignIn(fx, p);
    await expectRefused(complete(p, acs, post.SAMLResponse, start.pending), "no-username");
  });

  it("sends an AuthnRequest naming Gatehouse's entity, its ACS URL and the request ID it keeps", async () => {
    const p = fx.provider("corp");
    const start = await p.begin(acsOf("corp"), "the-state", signal());
    const url = new URL(start.location);
    expect(`${url.origin}${url.pathname}`).toBe(fx.idp.ssoURL);
    expect(url.searchParams.get("RelayState")).toBe("the-state");
    const req = authnRequestOf(start.location);
    const pending = JSON.parse(start.pending) as { id: string; acs: string };
    expect(req).toContain(`ID="${pending.id}"`);
    expect(req).toContain(`AssertionConsumerServiceURL="${acsOf("corp")}"`);
    expect(req).toContain(`Destination="${fx.idp.ssoURL}"`);
    expect(req).toMatch(new RegExp(`<saml:Issuer[^>]*>${entityOf("corp")}</saml:Issuer>`));
    expect(pending.acs).toBe(acsOf("corp"));
  });

  it("accepts a response where only the assertion is signed (the default requirement)", async () => {
    const p = fx.provider("assertiononly");
    const { start, post, acs } = await startAndSignIn(fx, p);
    expect((await complete(p, acs, post.SAMLResponse, start.pending)).username).toBe("alice");
  });

  it("accepts a response where only the response is signed when configured so", async () => {
    const p = fx.provider("responseonly", { wantAssertionsSigned: false, wantResponseSigned: true });
    const { start, post, acs } = await startAndSignIn(fx, p);
    expect((await complete(p, acs, post.SAMLResponse, start.pending)).username).toBe("alice");
  });

  it("signs AuthnRequests with spPrivateKey for an IdP that requires it", async () => {
    const p = fx.provider("signedreq", { spPrivateKey: fx.spKey.keyPem, spCertificate: fx.spKey.certPem });
    const { start, post, acs } = await startAndSignIn(fx, p);
    const url = new URL(start.location);
    expect(url.searchParams.get("SigAlg")).toBe("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256");
    expect(url.searchParams.get("Signature")).toBeTruthy();
    expect((await complete(p, acs, post.SAMLResponse, start.pending)).username).toBe("alice");
  });

  it("serves SP metadata with the entity ID, the ACS URL and the signing certificate", async () => {
    const plain = fx.provider("corp").spMetadata(acsOf("corp"));
    expect(plain).toContain(`entityID="${entityOf("corp")}"`);
    expect(plain).toMatch(
      new RegExp(
        `AssertionConsumerService[^>]*Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"[^>]*Location="${acsOf("corp")}"`,
      ),
    );
    expect(plain).toContain('WantAssertionsSigned="true"');
    expect(plain).toContain('AuthnRequestsSigned="false"');
    const signing = fx
      .provider("signedreq", {
        spPrivateKey: fx.spKey.keyPem,
        spCertificate: fx.spKey.certPem,
        entityID: "urn:gatehouse:test",
      })
      .spMetadata(acsOf("signedreq"));
    expect(signing).toContain('entityID="urn:gatehouse:test"');
    expect(signing).toContain('AuthnRequestsSigned="true"');
    expect(signing).toContain('use="signing"');
    expect(signing).toContain(fx.spKey.certPem.split("\n")[1] as string);
    expect(signing).toContain("<Signature");
    expect(signing).not.toContain("PRIVATE KEY");
  });

  it("reports a working IdP in idp test: metadata, certificates, single sign-on", async () => {
    const checks = await fx.provider("corp").test(signal());
    expect(checks.map((c) => [c.step, c.ok])).toEqual([
      ["metadata", true],
      ["certificates", true],
      ["single sign-on", true],
    ]);
    expect(checks[0]?.message).toContain(fx.idp.entityID);
  });

  it("reports metadata that cannot be fetched, and stops there", async () => {
    const p = fx.provider("corp", { idpMetadataURL: `${fx.idp.baseURL}/no/such/metadata.xml` });
    const checks = await p.test(signal());
    expect(checks).toHaveLength(1);
    expect(checks[0]).toMatchObject({ step: "metadata", ok: false });
    expect(checks[0]?.message).toMatch(/HTTP 404/);
    await expect(p.begin(acsOf("corp"), "s", signal())).rejects.toThrow(/answered HTTP 404/);
  });

  it("reports an IdP whose signing certificate has expired", async () => {
    const old = await rsaCertificate("old IdP", new Date(Date.now() - 30 * 86_400_000), 10);
    const xml = metadataXml("https://idp.example/old", fx.idp.ssoURL, old.certPem);
    const p = factory.create(common, { idpMetadata: xml }) as SamlProvider;
    const checks = await p.test(signal());
    expect(checks.find((c) => c.step === "certificates")).toMatchObject({ ok: false });
    expect(checks.find((c) => c.step === "certificates")?.message).toMatch(
      /none of the IdP's 1 signing certificate/,
    );
  });

  it("reports a single sign-on URL nobody answers at", async () => {
    const port = await freePort();
    const xml = metadataXml("https://idp.example/down", `http://127.0.0.1:${port}/sso`, fx.idp.certPem);
    const checks = await (factory.create(common, { idpMetadata: xml }) as SamlProvider).test(signal());
    expect(checks.find((c) => c.step === "single sign-on")).toMatchObject({ ok: false });
    expect(checks.find((c) => c.step === "single sign-on")?.message).toMatch(/cannot reach/);
  });

  it("reports an SP key that does not match its certificate", async () => {
    const other = await rsaCertificate("other", new Date(Date.now() - 60_000), 2);
    const p = fx.provider("signedreq", { spPrivateKey: other.keyPem, spCertificate: fx.spKey.certPem });
    const checks = await p.test(signal());
    expect(checks.find((c) => c.step === "SP signing key")).toMatchObject({ ok: false });
  });
});

describe("spec.saml validation", () => {
  const v = (s: Record<string, unknown>): string[] => factory.validate(s);

  it("declares spPrivateKey as its secret field", () => {
    expect(factory.type).toBe("saml");
    expect(factory.secretFields).toEqual(["spPrivateKey"]);
  });

  it("wants exactly one metadata source", () => {
    expect(v({})).toContain(
      "spec.saml: set exactly one of idpMetadataURL (fetched) and idpMetadata (the XML itself)",
    );
    expect(v({ idpMetadataURL: "https://idp.example/md", idpMetadata: "<x/>" })).toContain(
      "spec.saml: set exactly one of idpMetadataURL (fetched) and idpMetadata (the XML itself)",
    );
  });

  it("refuses metadata over plain http except on loopback", () => {
    expect(v({ idpMetadataURL: "http://idp.example/md" })[0]).toMatch(
      /^spec\.saml\.idpMetadataURL: must be an https/,
    );
    expect(v({ idpMetadataURL: "http://127.0.0.1:8080/md" })).toEqual([]);
    expect(v({ idpMetadataURL: "https://user:pw@idp.example/md" })[0]).toMatch(/credentials/);
  });

  it("explains inline metadata it cannot use", () => {
    expect(v({ idpMetadata: "<md:EntityDescriptor" })[0]).toMatch(
      /^spec\.saml\.idpMetadata: the IdP metadata is not well-formed XML/,
    );
    expect(v({ idpMetadata: "<html><body>login</body></html>" })[0]).toMatch(/root element is html/);
    expect(v({ idpMetadata: '<!DOCTYPE x [<!ENTITY a "b">]><x/>' })[0]).toMatch(/DOCTYPE/);
    const noCert = metadataXml("https://idp.example", "https://idp.example/sso", "").replace(
      /<md:KeyDescriptor[\s\S]*?<\/md:KeyDescriptor>/,
      "",
    );
    expect(v({ idpMetadata: noCert })[0]).toMatch(/publishes no signing certificate/);
    expect(() => factory.create(common, { idpMetadata: noCert })).toThrow(/publishes no signing certificate/);
  });

  it("checks keys, booleans, clock skew and unknown fields", () => {
    expect(
      v({ idpMetadataURL: "https://idp.example/md", spPrivateKey: "-----BEGIN PRIVATE KEY-----\nnope" }),
    ).toEqual(
      expect.arrayContaining([
        "spec.saml.spPrivateKey: must be a PEM private key",
        expect.stringMatching(/spPrivateKey and spCertificate go together/),
      ]),
    );
    // The kind handler validates a kept (or absent) secret as a placeholder; the pairing is checked
    // again when the provider is built with the opened secret.
    expect(v({ idpMetadataURL: "https://idp.example/md", spPrivateKey: "(sealed)" })).toEqual([]);
    expect(() =>
      factory.create(common, {
        idpMetadataURL: "https://idp.example/md",
        spPrivateKey: "-----BEGIN PRIVATE KEY-----",
      }),
    ).toThrow(/spPrivateKey and spCertificate go together/);
    expect(v({ idpMetadataURL: "https://idp.example/md", spCertificate: "x" })).toContain(
      "spec.saml: spPrivateKey and spCertificate go together (the key signs AuthnRequests, the certificate is published in the SP metadata)",
    );
    expect(
      v({ idpMetadataURL: "https://idp.example/md", spPrivateKey: "(sealed)", spCertificate: "x" }),
    ).toEqual(["spec.saml.spCertificate: must be a PEM certificate"]);
    expect(
      v({
        idpMetadataURL: "https://idp.example/md",
        wantAssertionsSigned: "yes",
        clockSkewSeconds: 3600,
        colour: 1,
      }),
    ).toEqual(
      expect.arrayContaining([
        "spec.saml.colour: unknown field",
        "spec.saml.wantAssertionsSigned: must be true or false",
        "spec.saml.clockSkewSeconds: must be a whole number of seconds from 0 to 300",
      ]),
    );
  });
});

describe("IdP signing key rollover", () => {
  let fx: SamlFixture;
  beforeAll(async () => {
    fx = await startSamlFixture();
  });
  afterAll(async () => {
    await fx?.stop();
  });

  it("reads the metadata again when a signature fails and the copy is over a minute old", async () => {
    let offset = 0;
    const p = fx.provider("corp", {}, { now: () => Date.now() + offset });
    const first = await startAndSignIn(fx, p);
    expect((await complete(p, first.acs, first.post.SAMLResponse, first.start.pending)).username).toBe(
      "alice",
    );
    await fx.idp.rotateKey();
    // Within a minute of the last read, the cached certificate stands: the new signature is refused.
    const early = await startAndSignIn(fx, p);
    await expect(complete(p, early.acs, early.post.SAMLResponse, early.start.pending)).rejects.toMatchObject({
      code: "signature",
    });
    offset = 61_000;
    const later = await startAndSignIn(fx, p);
    expect((await complete(p, later.acs, later.post.SAMLResponse, later.start.pending)).username).toBe(
      "alice",
    );
  });
});
