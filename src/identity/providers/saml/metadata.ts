import { X509Certificate } from "node:crypto";
import { descendants, kids as children, parseXml, XmlError, type XElement } from "./xml.js";

export const MD_NS = "urn:oasis:names:tc:SAML:2.0:metadata";
export const DSIG_NS = "http://www.w3.org/2000/09/xmldsig#";
export const PROTOCOL_NS = "urn:oasis:names:tc:SAML:2.0:protocol";
export const REDIRECT_BINDING = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";

/** What Gatehouse takes from an IdP's SAML 2.0 metadata. */
export interface IdpMetadata {
  entityID: string;
  /** SingleSignOnService for the HTTP-Redirect binding (the one Gatehouse sends AuthnRequests with). */
  ssoURL: string;
  /** Signing certificates, PEM; the response or assertion must be signed by one of them. */
  certificates: string[];
}

/** IdP metadata that cannot be used, with what is wrong in words an administrator can act on. */
export class SamlMetadataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SamlMetadataError";
  }
}

/** PEM from the base64 body of a ds:X509Certificate. */
export function pemOf(base64: string): string {
  const body = base64.replace(/\s+/g, "");
  const lines = body.match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join("\n")}\n-----END CERTIFICATE-----\n`;
}

/**
 * The IdP described by a metadata document: an EntityDescriptor with an IDPSSODescriptor, or an
 * EntitiesDescriptor holding exactly one (or the one named `entityID`).
 */
export function parseIdpMetadata(xml: string, entityID?: string): IdpMetadata {
  let root: XElement;
  try {
    root = parseXml(xml, "the IdP metadata");
  } catch (e) {
    throw e instanceof XmlError ? new SamlMetadataError(e.message) : e;
  }
  let entities: XElement[];
  if (root.namespaceURI === MD_NS && root.localName === "EntityDescriptor") entities = [root];
  else if (root.namespaceURI === MD_NS && root.localName === "EntitiesDescriptor")
    entities = descendants(root, MD_NS, "EntityDescriptor");
  else
    throw new SamlMetadataError(
      `the IdP metadata's root element is ${root.localName}, not a SAML 2.0 EntityDescriptor or EntitiesDescriptor`,
    );
  const idps = entities.filter((e) =>
    children(e, MD_NS, "IDPSSODescriptor").some((d) =>
      (d.getAttribute("protocolSupportEnumeration") ?? "").split(/\s+/).includes(PROTOCOL_NS),
    ),
  );
  const chosen = entityID === undefined ? idps : idps.filter((e) => e.getAttribute("entityID") === entityID);
  if (chosen.length === 0)
    throw new SamlMetadataError(
      entityID === undefined
        ? "the IdP metadata describes no SAML 2.0 identity provider (no IDPSSODescriptor for the SAML 2.0 protocol)"
        : `the IdP metadata has no SAML 2.0 identity provider with entityID ${entityID}`,
    );
  if (chosen.length > 1)
    throw new SamlMetadataError(
      "the IdP metadata describes several identity providers: set spec.saml.idpEntityID to the one to use",
    );
  const entity = chosen[0] as XElement;
  const id = entity.getAttribute("entityID") ?? "";
  if (id === "") throw new SamlMetadataError("the IdP's EntityDescriptor has no entityID");
  const idp = children(entity, MD_NS, "IDPSSODescriptor")[0] as XElement;
  const sso = children(idp, MD_NS, "SingleSignOnService").find(
    (s) => s.getAttribute("Binding") === REDIRECT_BINDING,
  );
  const ssoURL = sso?.getAttribute("Location") ?? "";
  if (!sso || !/^https?:\/\//.test(ssoURL))
    throw new SamlMetadataError(
      `the IdP ${id} offers no SingleSignOnService with the HTTP-Redirect binding, which Gatehouse uses to send AuthnRequests`,
    );
  const certificates: string[] = [];
  for (const kd of children(idp, MD_NS, "KeyDescriptor")) {
    const use = kd.getAttribute("use");
    if (use !== null && use !== "" && use !== "signing") continue;
    for (const c of descendants(kd, DSIG_NS, "X509Certificate")) {
      const pem = pemOf(c.textContent ?? "");
      try {
        new X509Certificate(pem);
      } catch {
        throw new SamlMetadataError(`the IdP ${id} publishes a signing certificate that cannot be read`);
      }
      if (!certificates.includes(pem)) certificates.push(pem);
    }
  }
  if (certificates.length === 0)
    throw new SamlMetadataError(
      `the IdP ${id} publishes no signing certificate (KeyDescriptor use="signing" with an X509Certificate), so its responses cannot be verified`,
    );
  return { entityID: id, ssoURL, certificates };
}
