import { SamlRefusedError, type SamlRefusal } from "./errors.js";
import { kids, parseXml, type XElement } from "./xml.js";

const ASSERTION_NS = "urn:oasis:names:tc:SAML:2.0:assertion";
const PROTOCOL_NS = "urn:oasis:names:tc:SAML:2.0:protocol";
const BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer";

/** What every accepted assertion must match. */
export interface Expectations {
  provider: string;
  /** The IdP's entity ID. */
  issuer: string;
  /** Gatehouse's Assertion Consumer Service URL for this provider. */
  acsURL: string;
  audience: string;
  /** ID of the AuthnRequest this sign-in sent. */
  requestId: string;
  now: number;
  skewMs: number;
}

/** Facts about an accepted assertion that the replay guard needs. */
export interface AcceptedAssertion {
  id: string;
  /** Until when the assertion could be presented (its earliest NotOnOrAfter, plus the clock skew). */
  expiresAt: number;
}

function parseOrRefuse(provider: string, xml: string, what: string): XElement {
  try {
    return parseXml(xml, what);
  } catch (e) {
    throw new SamlRefusedError(provider, "malformed", (e as Error).message);
  }
}

/**
 * The checks on the Response element that node-saml leaves to us: Destination (when present) is our
 * ACS URL, and InResponseTo names our request.
 */
export function checkResponse(xml: string, x: Expectations): void {
  const root = parseOrRefuse(x.provider, xml, "the SAML response");
  if (root.namespaceURI !== PROTOCOL_NS || root.localName !== "Response")
    throw new SamlRefusedError(x.provider, "malformed", `root element ${root.localName}`);
  const dest = root.getAttribute("Destination");
  if (dest !== null && dest !== "" && dest !== x.acsURL)
    throw new SamlRefusedError(x.provider, "destination", `Destination ${dest}`);
  if (root.getAttribute("InResponseTo") !== x.requestId)
    throw new SamlRefusedError(x.provider, "in-response-to");
}

/**
 * Our own checks on the signed assertion (the XML node-saml verified, never the raw response):
 * issuer, audience, time window with our clock, and a bearer SubjectConfirmation for our ACS URL
 * that answers our request. node-saml checks most of these too, with the system clock; doing them
 * again here keeps the rules in one readable place and honours the injected clock.
 */
export function checkAssertion(xml: string, x: Expectations): AcceptedAssertion {
  const refuse = (code: SamlRefusal, detail?: string): never => {
    throw new SamlRefusedError(x.provider, code, detail);
  };
  const a = parseOrRefuse(x.provider, xml, "the SAML assertion");
  if (a.namespaceURI !== ASSERTION_NS || a.localName !== "Assertion") refuse("malformed", "not an Assertion");
  const id = a.getAttribute("ID") ?? "";
  if (id === "") refuse("malformed", "assertion without ID");
  const issuer = kids(a, ASSERTION_NS, "Issuer")[0]?.textContent?.trim() ?? "";
  if (issuer !== x.issuer) refuse("issuer", `Issuer ${issuer}`);

  const time = (v: string | null, what: string): number | undefined => {
    if (v === null || v === "") return undefined;
    const t = Date.parse(v);
    return Number.isNaN(t) ? refuse("malformed", `${what} ${v}`) : t;
  };
  const window = (el: XElement, what: string): SamlRefusal | undefined => {
    const nb = time(el.getAttribute("NotBefore"), `${what} NotBefore`);
    const noa = time(el.getAttribute("NotOnOrAfter"), `${what} NotOnOrAfter`);
    if (nb !== undefined && x.now + x.skewMs < nb) return "not-yet-valid";
    if (noa !== undefined && x.now - x.skewMs >= noa) return "expired";
    return undefined;
  };

  const conditions = kids(a, ASSERTION_NS, "Conditions");
  if (conditions.length !== 1) refuse("malformed", `${conditions.length} Conditions elements`);
  const cond = conditions[0] as XElement;
  const condWindow = window(cond, "Conditions");
  if (condWindow) refuse(condWindow);
  const restrictions = kids(cond, ASSERTION_NS, "AudienceRestriction");
  // Each AudienceRestriction must include us (SAML core 2.5.1.4).
  if (
    restrictions.length === 0 ||
    !restrictions.every((r) =>
      kids(r, ASSERTION_NS, "Audience").some((au) => au.textContent?.trim() === x.audience),
    )
  )
    refuse("audience");

  const subject = kids(a, ASSERTION_NS, "Subject")[0];
  const confirmations = subject
    ? kids(subject, ASSERTION_NS, "SubjectConfirmation").filter((c) => c.getAttribute("Method") === BEARER)
    : [];
  if (confirmations.length === 0) refuse("recipient", "no bearer SubjectConfirmation");
  let firstProblem: SamlRefusal | undefined;
  let subjectExpiry: number | undefined;
  for (const c of confirmations) {
    const data = kids(c, ASSERTION_NS, "SubjectConfirmationData")[0];
    const problem: SamlRefusal | undefined = !data
      ? "recipient"
      : data.getAttribute("Recipient") !== x.acsURL
        ? "recipient"
        : data.getAttribute("InResponseTo") !== x.requestId
          ? "in-response-to"
          : !data.getAttribute("NotOnOrAfter")
            ? "expired"
            : window(data, "SubjectConfirmationData");
    if (problem === undefined) {
      subjectExpiry = time(data?.getAttribute("NotOnOrAfter") ?? null, "NotOnOrAfter");
      break;
    }
    firstProblem ??= problem;
  }
  if (subjectExpiry === undefined) return refuse(firstProblem ?? "recipient");
  const condExpiry = time(cond.getAttribute("NotOnOrAfter"), "Conditions NotOnOrAfter");
  const expiresAt = Math.min(subjectExpiry, condExpiry ?? subjectExpiry) + x.skewMs;
  return { id, expiresAt };
}
