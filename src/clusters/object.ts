import type { ClusterConnection } from "./kubeconfig.js";
import { CLUSTER_KIND, type CredentialsInput, type ImpersonatorStatus } from "./types.js";

/** The credential a kubeconfig context carries, in the Cluster API's shape; undefined when it has none. */
export function credentialsFromConnection(conn: ClusterConnection): CredentialsInput | undefined {
  if (conn.token !== undefined) return { token: conn.token };
  if (conn.clientCertPem !== undefined && conn.clientKeyPem !== undefined)
    return {
      clientCertificateData: Buffer.from(conn.clientCertPem).toString("base64"),
      clientKeyData: Buffer.from(conn.clientKeyPem).toString("base64"),
    };
  return undefined;
}

/** The Cluster object `cluster add` sends: server and CA from the kubeconfig, the chosen credential. */
export function clusterObject(
  name: string,
  labels: Readonly<Record<string, string>>,
  conn: ClusterConnection,
  credentials: CredentialsInput,
  impersonator?: ImpersonatorStatus,
): Record<string, unknown> {
  return {
    apiVersion: "gatehouse.io/v1alpha1",
    kind: CLUSTER_KIND,
    metadata: { name, ...(Object.keys(labels).length > 0 ? { labels: { ...labels } } : {}) },
    spec: {
      server: conn.server,
      ...(conn.caPem !== undefined ? { caData: Buffer.from(conn.caPem).toString("base64") } : {}),
      ...(conn.insecureSkipTLSVerify ? { insecureSkipTLSVerify: true } : {}),
      credentials,
    },
    ...(impersonator ? { status: { impersonator } } : {}),
  };
}
