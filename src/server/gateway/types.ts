/** A registered cluster as the gateway needs it, credentials decrypted (see src/clusters). */
export interface ClusterTarget {
  name: string;
  labels: Readonly<Record<string, string>>;
  server: string;
  caPem?: string;
  insecureSkipTLSVerify: boolean;
  token?: string;
  clientCertPem?: string;
  clientKeyPem?: string;
}

export interface ClusterRegistry {
  get(name: string): Promise<ClusterTarget | undefined>;
  list(): Promise<ClusterTarget[]>;
  invalidate(): void;
}
