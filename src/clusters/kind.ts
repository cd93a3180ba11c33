import type { KeyRing } from "../secrets/index.js";
import type { ApiObject, KindSpec } from "../server/api/kind.js";
import { GROUP } from "../server/api/group.js";
import { HttpError } from "../server/errors.js";
import { sealCredentials, storedCredentialsOf } from "./credentials.js";
import { isCredentialsInput, validateCluster } from "./validate.js";
import { CLUSTER_KIND, type ClusterStatus, type CredentialsInput, type StoredCredentials } from "./types.js";

/**
 * The Cluster kind of the management API. Credentials are write-only: sealed with the key ring
 * before they are stored, served only as `{type, encrypted: true}`. `status` belongs to the server:
 * the health checker writes it through the store; from clients only `status.impersonator`, which
 * describes a credential, is taken, and only together with that credential.
 */
export function clusterKind(keyRing: KeyRing): KindSpec {
  return {
    kind: CLUSTER_KIND,
    plural: "clusters",
    singular: "cluster",
    validate: validateCluster,
    toStored: (obj, previous) => Promise.resolve(toStored(keyRing, obj, previous)),
    present,
  };
}

function toStored(keyRing: KeyRing, obj: ApiObject, previous: ApiObject | undefined): ApiObject {
  const name = obj.metadata.name;
  const spec = obj.spec as Record<string, unknown>;
  const server = spec["server"] as string;
  const caData = spec["caData"] as string | undefined;
  const insecure = spec["insecureSkipTLSVerify"] === true;
  const prevSpec = previous?.spec;
  const prevStatus = (previous?.status ?? {}) as ClusterStatus;

  let credentials: StoredCredentials;
  let impersonator: ClusterStatus["impersonator"];
  const fresh = isCredentialsInput(spec["credentials"]);
  if (fresh) {
    credentials = sealCredentials(keyRing, name, spec["credentials"] as CredentialsInput);
    impersonator = (obj.status as ClusterStatus | undefined)?.impersonator;
  } else {
    const kept = previous && storedCredentialsOf(previous);
    if (!kept)
      throw invalid(name, "spec.credentials: required: {token} or {clientCertificateData, clientKeyData}");
    // A stored credential is only ever sent to the server it was given for.
    if (prevSpec?.["server"] !== server)
      throw invalid(
        name,
        "spec.credentials: required when spec.server changes (the stored credential stays with its server)",
      );
    // ...and never over a connection that stopped verifying the server.
    if (insecure && prevSpec["insecureSkipTLSVerify"] !== true)
      throw invalid(name, "spec.credentials: required when spec.insecureSkipTLSVerify is turned on");
    credentials = kept;
    impersonator = prevStatus.impersonator;
  }

  // Health and version describe the old connection unless nothing about it changed.
  const sameConnection =
    !fresh &&
    prevSpec?.["server"] === server &&
    prevSpec["caData"] === caData &&
    (prevSpec["insecureSkipTLSVerify"] === true) === insecure;
  const status: ClusterStatus = {
    ...(sameConnection && prevStatus.kubernetesVersion !== undefined
      ? { kubernetesVersion: prevStatus.kubernetesVersion }
      : {}),
    ...(sameConnection && prevStatus.health !== undefined ? { health: prevStatus.health } : {}),
    ...(impersonator !== undefined ? { impersonator: { ...impersonator } } : {}),
  };
  return {
    apiVersion: obj.apiVersion,
    kind: CLUSTER_KIND,
    metadata: obj.metadata,
    spec: {
      server,
      ...(caData !== undefined ? { caData } : {}),
      ...(insecure ? { insecureSkipTLSVerify: true } : {}),
      credentials,
    },
    status: status as Record<string, unknown>,
  };
}

/** The served form: everything but the sealed credential, which becomes `{type, encrypted: true}`. */
function present(obj: ApiObject): ApiObject {
  const spec = obj.spec ?? {};
  const stored = storedCredentialsOf(obj);
  return {
    ...obj,
    spec: { ...spec, credentials: { type: stored?.type ?? "unknown", encrypted: true } },
  };
}

function invalid(name: string, problem: string): HttpError {
  return new HttpError("Invalid", `${CLUSTER_KIND}.${GROUP} ${JSON.stringify(name)} is invalid: ${problem}`);
}
