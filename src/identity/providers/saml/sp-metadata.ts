import { generateServiceProviderMetadata } from "@node-saml/node-saml";

/** What the SP metadata of one SAML provider says. */
export interface SpMetadataInput {
  entityID: string;
  /** Assertion Consumer Service (HTTP-POST). */
  acsURL: string;
  wantAssertionsSigned: boolean;
  nameIDFormat?: string;
  /** When AuthnRequests are signed: the key signs the metadata too, the certificate is published. */
  signing?: { privateKey: string; certificate: string };
}

/** SAML 2.0 SP metadata (an EntityDescriptor with one SPSSODescriptor) for the IdP's administrator. */
export function spMetadataXml(m: SpMetadataInput): string {
  return generateServiceProviderMetadata({
    issuer: m.entityID,
    callbackUrl: m.acsURL,
    identifierFormat: m.nameIDFormat ?? null,
    wantAssertionsSigned: m.wantAssertionsSigned,
    ...(m.signing
      ? {
          privateKey: m.signing.privateKey,
          publicCerts: m.signing.certificate,
          signatureAlgorithm: "sha256",
          signMetadata: true,
        }
      : {}),
  });
}
