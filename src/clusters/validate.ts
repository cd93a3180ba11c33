import { X509Certificate, createPrivateKey } from "node:crypto";
import type { ApiObject } from "../server/api/kind.js";
import { validateLabels } from "./labels.js";
import type { CredentialsInput } from "./types.js";

/**
 * Validation of a Cluster as a client sends it. Messages name fields and say what is wrong; they
 * never quote a credential.
 */
export function validateCluster(obj: ApiObject): string[] {
  const problems = validateLabels(obj.metadata.labels ?? {});
  const spec = obj.spec;
  if (typeof spec !== "object" || spec === null) return [...problems, "spec: required"];
  for (const k of Object.keys(spec))
    if (!["server", "caData", "insecureSkipTLSVerify", "credentials"].includes(k))
      problems.push(`spec.${k}: unknown field`);
  problems.push(...serverProblems(spec["server"]));
  const ca = spec["caData"];
  if (ca !== undefined) {
    if (typeof ca !== "string" || !isCertificatePem(decode(ca)))
      problems.push(
        "spec.caData: must be base64 of PEM CA certificates (as certificate-authority-data in a kubeconfig)",
      );
  }
  const insecure = spec["insecureSkipTLSVerify"];
  if (insecure !== undefined && typeof insecure !== "boolean")
    problems.push("spec.insecureSkipTLSVerify: must be true or false");
  if (insecure === true && ca !== undefined)
    problems.push("spec.insecureSkipTLSVerify: cannot be true together with spec.caData");
  problems.push(...credentialsProblems(spec["credentials"]));
  problems.push(...impersonatorProblems(obj.status?.["impersonator"]));
  return problems;
}

/** Whether `credentials` is a new credential (as opposed to the served placeholder, which keeps the stored one). */
export function isCredentialsInput(c: unknown): c is CredentialsInput {
  return typeof c === "object" && c !== null && !("encrypted" in c);
}

function serverProblems(server: unknown): string[] {
  if (typeof server !== "string" || server === "") return ["spec.server: required: https://HOST[:PORT]"];
  let u: URL;
  try {
    u = new URL(server);
  } catch {
    return ["spec.server: not a URL"];
  }
  if (u.protocol !== "https:") return ["spec.server: must be an https:// URL"];
  if (u.username !== "" || u.password !== "" || u.search !== "" || u.hash !== "")
    return ["spec.server: must not carry user info, a query or a fragment"];
  return [];
}

function credentialsProblems(c: unknown): string[] {
  const shape =
    "spec.credentials: required: {token} or {clientCertificateData, clientKeyData} (base64 PEM, as in a kubeconfig)";
  if (typeof c !== "object" || c === null || Array.isArray(c)) return [shape];
  const o = c as Record<string, unknown>;
  const keys = Object.keys(o).sort().join(",");
  // What GET serves: on replace it means "keep the stored credential".
  if ("encrypted" in o)
    return keys === "encrypted,type" &&
      o["encrypted"] === true &&
      (o["type"] === "token" || o["type"] === "clientCertificate")
      ? []
      : [
          'spec.credentials: {type, encrypted: true} must be exactly as served (type "token" or "clientCertificate")',
        ];
  if (keys === "token")
    return typeof o["token"] === "string" && /^[\x21-\x7e]{1,8192}$/.test(o["token"])
      ? []
      : ["spec.credentials.token: must be a non-empty bearer token of printable characters without spaces"];
  if (keys === "clientCertificateData,clientKeyData") {
    const cert = typeof o["clientCertificateData"] === "string" ? decode(o["clientCertificateData"]) : "";
    const key = typeof o["clientKeyData"] === "string" ? decode(o["clientKeyData"]) : "";
    return clientCertificateProblems(cert, key);
  }
  return [shape];
}

function clientCertificateProblems(certPem: string, keyPem: string): string[] {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch {
    return ["spec.credentials.clientCertificateData: must be base64 of a PEM certificate"];
  }
  try {
    const key = createPrivateKey(keyPem);
    if (!cert.checkPrivateKey(key))
      return ["spec.credentials.clientKeyData: does not match the client certificate"];
  } catch {
    return ["spec.credentials.clientKeyData: must be base64 of a PEM private key"];
  }
  return [];
}

function impersonatorProblems(imp: unknown): string[] {
  if (imp === undefined) return [];
  if (typeof imp !== "object" || imp === null) return ["status.impersonator: must be an object"];
  const out: string[] = [];
  for (const [k, v] of Object.entries(imp)) {
    if (k === "serviceAccount") {
      if (typeof v !== "string" || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(v))
        out.push("status.impersonator.serviceAccount: must be NAMESPACE/NAME");
    } else if (k === "tokenExpirationTimestamp" || k === "renewedAt") {
      if (typeof v !== "string" || Number.isNaN(Date.parse(v)) || !/^\d{4}-\d\d-\d\dT/.test(v))
        out.push(`status.impersonator.${k}: must be an RFC 3339 time`);
    } else if (k === "tokenExpirationSeconds") {
      // The TokenRequest API's own bounds: at least 10 minutes, at most 2^32 seconds.
      if (typeof v !== "number" || !Number.isInteger(v) || v < 600 || v > 2 ** 32)
        out.push(
          "status.impersonator.tokenExpirationSeconds: must be a whole number of seconds, at least 600",
        );
    } else out.push(`status.impersonator.${k}: unknown field`);
  }
  return out;
}

function decode(b64: string): string {
  return Buffer.from(b64, "base64").toString("utf8");
}

function isCertificatePem(pem: string): boolean {
  if (!pem.includes("-----BEGIN CERTIFICATE-----")) return false;
  try {
    new X509Certificate(pem);
    return true;
  } catch {
    return false;
  }
}
