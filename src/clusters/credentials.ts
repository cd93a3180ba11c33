import type { KeyRing, SealedKind } from "../secrets/index.js";
import { CLUSTER_KIND, type CredentialsInput, type StoredCredentials } from "./types.js";

/**
 * The associated data of a cluster's sealed credentials: a ciphertext opens only as the credentials
 * of the cluster it was sealed for, so copying it to another Cluster object (one whose server an
 * attacker controls, say) yields a decryption error, never a credential sent to the wrong place.
 */
export function credentialsAad(name: string): string {
  return `${CLUSTER_KIND}/${name}/credentials`;
}

/** Seal a credential under the primary key. */
export function sealCredentials(keyRing: KeyRing, name: string, input: CredentialsInput): StoredCredentials {
  const plain: CredentialsInput =
    "token" in input
      ? { token: input.token }
      : { clientCertificateData: input.clientCertificateData, clientKeyData: input.clientKeyData };
  return {
    type: "token" in input ? "token" : "clientCertificate",
    ciphertext: keyRing.seal(JSON.stringify(plain), credentialsAad(name)),
  };
}

/** Open sealed credentials; throws SecretsError (with a message naming the cluster, not the secret). */
export function openCredentials(keyRing: KeyRing, name: string, stored: StoredCredentials): CredentialsInput {
  return JSON.parse(keyRing.open(stored.ciphertext, credentialsAad(name))) as CredentialsInput;
}

/** The stored credentials of a stored body, if they have the stored shape. */
export function storedCredentialsOf(body: Record<string, unknown>): StoredCredentials | undefined {
  const spec = body["spec"];
  if (typeof spec !== "object" || spec === null) return undefined;
  const c = (spec as Record<string, unknown>)["credentials"];
  if (typeof c !== "object" || c === null) return undefined;
  const { type, ciphertext } = c as Record<string, unknown>;
  if ((type !== "token" && type !== "clientCertificate") || typeof ciphertext !== "string") return undefined;
  return { type, ciphertext };
}

/** How `gatehouse secrets reencrypt` rewrites Cluster credentials under the primary key. */
export const clusterSealedKind: SealedKind = {
  kind: CLUSTER_KIND,
  reseal(body, name, keyRing) {
    const stored = storedCredentialsOf(body);
    if (!stored || keyRing.isCurrent(stored.ciphertext)) return undefined;
    const spec = body["spec"] as Record<string, unknown>;
    const credentials: StoredCredentials = {
      type: stored.type,
      ciphertext: keyRing.reseal(stored.ciphertext, credentialsAad(name)),
    };
    return { ...body, spec: { ...spec, credentials } };
  },
};
