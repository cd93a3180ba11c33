/** What the gateway needs to reach one registered cluster, credentials decrypted. */
export interface ClusterTarget {
  name: string;
  labels: Readonly<Record<string, string>>;
  /** https://host:port of the cluster's API. */
  server: string;
  caPem?: string;
  insecureSkipTLSVerify: boolean;
  /** Decrypted. */
  token?: string;
  /** Decrypted. */
  clientCertPem?: string;
  /** Decrypted. */
  clientKeyPem?: string;
  /**
   * Set when the credential is the impersonate-only service account (`status.impersonator`): Gatehouse's
   * own controllers then act as this user (see controllerClient), since the token alone may do nothing.
   */
  controllerUser?: string;
}

/** The registered clusters, as the gateway reads them. */
export interface ClusterRegistry {
  get(name: string): Promise<ClusterTarget | undefined>;
  list(): Promise<ClusterTarget[]>;
  /** Called by the API layer after any Cluster write, to drop caches. */
  invalidate(): void;
}

export const CLUSTER_KIND = "Cluster";

/** The credential a client sends on create or replace (write-only: never served back). */
export type CredentialsInput = { token: string } | { clientCertificateData: string; clientKeyData: string };

export type CredentialsType = "token" | "clientCertificate";

/** How credentials are stored: one sealed JSON of CredentialsInput, bound to `Cluster/NAME/credentials`. */
export interface StoredCredentials {
  type: CredentialsType;
  ciphertext: string;
}

/** The spec as stored (credentials sealed). */
export interface StoredClusterSpec {
  server: string;
  caData?: string;
  insecureSkipTLSVerify?: boolean;
  credentials: StoredCredentials;
}

/** The service account whose token is stored, when `cluster add` bootstrapped it. */
export interface ImpersonatorStatus {
  /** NAMESPACE/NAME */
  serviceAccount?: string;
  /** RFC 3339; when the stored token stops working. */
  tokenExpirationTimestamp?: string;
  /** The lifetime asked for (`--token-expiration`); renewals ask for the same. */
  tokenExpirationSeconds?: number;
  /** RFC 3339; when Gatehouse last replaced the token with a renewed one. */
  renewedAt?: string;
}

export interface ClusterStatus {
  kubernetesVersion?: string;
  health?: { ready: boolean; message: string; lastChecked: string };
  impersonator?: ImpersonatorStatus;
}
