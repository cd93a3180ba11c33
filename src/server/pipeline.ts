import type { Filter, Handler } from "./context.js";
import type { Authenticator } from "../identity/index.js";
import type { ServerMetrics } from "./metrics.js";
import { withRecovery } from "./filters/recover.js";
import { withMetrics } from "./filters/metrics.js";
import { withAuthentication } from "./filters/authenticate.js";

/**
 * The request path, in order, in one place (as kube-apiserver's DefaultBuildHandlerChain):
 *   recover → metrics → authenticate → route
 * The first filter listed is the outermost. Later stages (impersonation, audit, central authorization,
 * proxy) slot in between authenticate and route.
 */
export function buildPipeline(deps: {
  authn: Authenticator;
  metrics: ServerMetrics;
  route: Handler;
}): Handler {
  const chain: Filter[] = [withRecovery, withMetrics(deps.metrics), withAuthentication(deps.authn)];
  return chain.reduceRight<Handler>((next, filter) => filter(next), deps.route);
}
