import type { Filter, Handler } from "./context.js";
import type { Authenticator } from "../identity/index.js";
import type { ServerMetrics } from "./metrics.js";
import { withRecovery } from "./filters/recover.js";
import { withMetrics } from "./filters/metrics.js";
import { withAuthentication } from "./filters/authenticate.js";

/**
 * The request path, in order, in one place (as kube-apiserver's DefaultBuildHandlerChain):
 *   recover → metrics → authenticate → audit → route
 * The first filter listed is the outermost. Audit follows authentication (so events name the user)
 * and wraps everything after it, as kube-apiserver's does; impersonation and central authorization
 * run inside the gateway route and note their outcome for audit on the context.
 */
export function buildPipeline(deps: {
  authn: Authenticator;
  metrics: ServerMetrics;
  /** The audit filter (filters/audit.ts); absent only in tests of the bare chain. */
  audit?: Filter;
  /** Audit of requests that failed authentication (filters/audit-unauthenticated.ts). */
  failedAuthnAudit?: Filter;
  route: Handler;
}): Handler {
  const chain: Filter[] = [
    withRecovery,
    withMetrics(deps.metrics),
    ...(deps.failedAuthnAudit ? [deps.failedAuthnAudit] : []),
    withAuthentication(deps.authn),
    ...(deps.audit ? [deps.audit] : []),
  ];
  return chain.reduceRight<Handler>((next, filter) => filter(next), deps.route);
}
