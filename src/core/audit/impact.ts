import type { RequestAttributes } from "../k8s/index.js";

/**
 * The impact class of a request, for auditors: stored as the gatehouse.io/impact annotation and
 * usable as a query filter. Classes are ordered; a request gets the highest that applies:
 *
 *   privileged > delete > write > read
 *
 * privileged:
 *   - exec, attach, portforward or proxy subresources, and the old proxy verb (a shell or a tunnel
 *     into a workload or node);
 *   - the verbs impersonate, escalate, bind, approve and sign (they grant or assume power);
 *   - any change (create, update, patch, delete, deletecollection, or another non-read verb) to RBAC
 *     objects, secrets, admission webhook and admission policy configurations, CRDs, or nodes;
 *   - any read of secrets: reading a secret discloses the credential in it;
 *   - creating a service account token (serviceaccounts/token) or a CertificateSigningRequest
 *     approval (certificatesigningrequests/approval): both mint credentials.
 * delete: delete and deletecollection.
 * write: create, update, patch and any other verb that is not a read.
 * read: get, list, watch; for non-resource requests get, head and options.
 */
export type Impact = "read" | "write" | "delete" | "privileged";

export const IMPACTS: readonly Impact[] = ["read", "write", "delete", "privileged"];

const READ_VERBS = new Set(["get", "list", "watch"]);
const NON_RESOURCE_READ_VERBS = new Set(["get", "head", "options"]);
const DELETE_VERBS = new Set(["delete", "deletecollection"]);
const PRIVILEGED_VERBS = new Set(["impersonate", "escalate", "bind", "approve", "sign", "proxy"]);
const SHELL_SUBRESOURCES = new Set(["exec", "attach", "portforward", "proxy"]);
const CREDENTIAL_SUBRESOURCES = new Set(["serviceaccounts/token", "certificatesigningrequests/approval"]);

/** Resources whose changes are privileged, keyed "group/resource" ("" is the core group). */
const SENSITIVE_RESOURCES = new Set([
  "rbac.authorization.k8s.io/roles",
  "rbac.authorization.k8s.io/rolebindings",
  "rbac.authorization.k8s.io/clusterroles",
  "rbac.authorization.k8s.io/clusterrolebindings",
  "/secrets",
  "/nodes",
  "admissionregistration.k8s.io/mutatingwebhookconfigurations",
  "admissionregistration.k8s.io/validatingwebhookconfigurations",
  "admissionregistration.k8s.io/validatingadmissionpolicies",
  "admissionregistration.k8s.io/validatingadmissionpolicybindings",
  "admissionregistration.k8s.io/mutatingadmissionpolicies",
  "admissionregistration.k8s.io/mutatingadmissionpolicybindings",
  "apiextensions.k8s.io/customresourcedefinitions",
]);

/** Classify a request by the rules above. */
export function classifyImpact(a: RequestAttributes): Impact {
  if (a.kind === "nonResource") {
    if (NON_RESOURCE_READ_VERBS.has(a.verb)) return "read";
    return a.verb === "delete" ? "delete" : "write";
  }
  if (PRIVILEGED_VERBS.has(a.verb) || SHELL_SUBRESOURCES.has(a.subresource)) return "privileged";
  const read = READ_VERBS.has(a.verb);
  if (!read && CREDENTIAL_SUBRESOURCES.has(`${a.resource}/${a.subresource}`)) return "privileged";
  const sensitive = SENSITIVE_RESOURCES.has(`${a.apiGroup}/${a.resource}`);
  if (sensitive && (!read || (a.apiGroup === "" && a.resource === "secrets"))) return "privileged";
  if (read) return "read";
  return DELETE_VERBS.has(a.verb) ? "delete" : "write";
}
