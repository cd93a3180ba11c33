import { KubeClient } from "./kube-client.js";
import type { ClusterTarget } from "./types.js";

/**
 * A client for Gatehouse's own work on a cluster (RBAC sync, tenant spaces, tenant verify), with the
 * registered credential, never a caller's identity. Through the impersonate-only service account it
 * acts as `gatehouse:controller` (IMPERSONATOR.controllerUser), whose rights the bootstrap binds.
 */
export function controllerClient(t: ClusterTarget, userAgent: string, timeoutMs = 15_000): KubeClient {
  return new KubeClient(
    {
      contextName: t.name,
      server: t.server,
      insecureSkipTLSVerify: t.insecureSkipTLSVerify,
      ...(t.caPem ? { caPem: t.caPem } : {}),
      ...(t.token ? { token: t.token } : {}),
      ...(t.clientCertPem ? { clientCertPem: t.clientCertPem } : {}),
      ...(t.clientKeyPem ? { clientKeyPem: t.clientKeyPem } : {}),
      ...(t.controllerUser ? { impersonateUser: t.controllerUser } : {}),
    },
    { timeoutMs, userAgent },
  );
}
