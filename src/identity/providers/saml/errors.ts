import { ProviderRefusedError } from "../types.js";

/** Why a SAML response did not sign anyone in: a closed set, asserted by tests and audited. */
export type SamlRefusal =
  | "missing-response"
  | "malformed"
  | "status"
  | "signature"
  | "multiple-assertions"
  | "issuer"
  | "destination"
  | "recipient"
  | "audience"
  | "in-response-to"
  | "request-expired"
  | "not-yet-valid"
  | "expired"
  | "replay"
  | "no-username";

const TEXT: Record<SamlRefusal, string> = {
  "missing-response": "no SAMLResponse was posted to the sign-in callback",
  malformed: "the SAML response could not be read",
  status: "the identity provider did not sign you in",
  signature:
    "the SAML response is not signed with the identity provider's key, or was changed after it was signed",
  "multiple-assertions": "the SAML response carries more than one assertion",
  issuer: "the SAML assertion was issued by another identity provider",
  destination: "the SAML response was sent to another service provider",
  recipient: "the SAML assertion is meant for another service provider",
  audience: "the SAML assertion is meant for another audience",
  "in-response-to": "the SAML response does not answer this sign-in request",
  "request-expired": "the sign-in request is too old",
  "not-yet-valid":
    "the SAML assertion is not valid yet (check the clocks of Gatehouse and the identity provider)",
  expired: "the SAML assertion has expired (check the clocks of Gatehouse and the identity provider)",
  replay: "this SAML assertion was already used to sign in",
  "no-username":
    "the SAML assertion does not say who you are (the username attribute is missing or has several values)",
};

/**
 * A refused SAML response. The message is safe to show to the person signing in: it names the
 * check that failed, never keys, configuration or the response's contents; `detail` (the
 * library's own words) is for the server log only.
 */
export class SamlRefusedError extends ProviderRefusedError {
  constructor(
    provider: string,
    readonly code: SamlRefusal,
    readonly detail?: string,
  ) {
    super(
      provider,
      `SAML sign-in with ${provider} refused (${code}): ${TEXT[code]}. Start the sign-in again; if it keeps failing, ask an administrator to run "gatehouse idp test ${provider}".`,
    );
    this.name = "SamlRefusedError";
  }
}

/** node-saml's error text → our refusal code (anything unknown is a malformed response). */
export function refusalOf(e: unknown): SamlRefusal {
  const name = e instanceof Error ? e.name : "";
  const m = e instanceof Error ? e.message : String(e);
  if (name === "SamlStatusError" || /returned .* error/.test(m)) return "status";
  if (/multiple assertions/i.test(m)) return "multiple-assertions";
  if (/signature|signed|verif/i.test(m)) return "signature";
  if (/InResponseTo/i.test(m)) return "in-response-to";
  if (/not yet valid/i.test(m)) return "not-yet-valid";
  if (/expired|too old|subject confirmation/i.test(m)) return "expired";
  if (/audience/i.test(m)) return "audience";
  if (/issuer/i.test(m)) return "issuer";
  return "malformed";
}
