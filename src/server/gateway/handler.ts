import { noteAudit, type RequestContext } from "../context.js";
import {
  forbidden,
  isLongRunning,
  parseRequestInfo,
  requestAttributes,
  RequestInfoError,
} from "../../core/k8s/index.js";
import { HttpError } from "../errors.js";
import { writeStatus } from "../respond.js";
import type { AccessEvaluator } from "./access.js";
import { checkImpersonation } from "./impersonation.js";
import { parseTarget } from "./target.js";
import { forward } from "./forward.js";
import { clientGone, unavailable } from "./client-status.js";
import { proxyUpgrade } from "./upgrade.js";
import { centralSelfReview, isSelfSubjectAccessReview } from "./self-review.js";
import { writeJSON } from "../respond.js";
import type { UpstreamPools } from "./upstream.js";
import type { TenancyGateway } from "../tenancy/gateway-hook.js";
import type { ClusterRegistry, ClusterTarget } from "../../clusters/types.js";
import { ClusterCredentialsError } from "../../clusters/index.js";
import { impersonationHeaders } from "./headers.js";

const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});

export interface GatewayDeps {
  clusters: ClusterRegistry;
  access: AccessEvaluator;
  pools: UpstreamPools;
  responseTimeoutMs: number;
  maxBodyBytes: number;
  /** Tenant spaces through kubectl; absent: namespaces are plain Kubernetes. */
  tenancy?: TenancyGateway;
}

/**
 * /k8s/clusters/NAME/...: visibility, client impersonation, central authorization, then forward as the
 * authorized user. Steps and their order are explained in ./README.md.
 */
export function gatewayHandler(deps: GatewayDeps) {
  return async (ctx: RequestContext): Promise<void> => {
    ctx.route = "/k8s/clusters/{cluster}";
    // A stream the client already reset (HTTP/2) costs nothing more: no lookups, no cluster request.
    if (!ctx.upgrade && clientGone(ctx.res)) return;
    const target = parseTarget(ctx.req.url ?? "/");
    const caller = ctx.user;
    if (!caller) throw new HttpError("Unauthorized", "Unauthorized");
    const notFound = (): HttpError =>
      new HttpError("NotFound", `clusters.gatehouse.io ${JSON.stringify(target.cluster)} not found`);
    const found = await clusterFor(deps.clusters, target.cluster);
    if (!found) throw notFound();
    const actor = await deps.access.withTeams(caller);
    if (found instanceof ClusterCredentialsError) {
      // Its labels are sealed away with it: visibility by name (or by a selector matching no labels).
      if (!(await deps.access.visible(actor, { name: found.cluster, labels: NO_LABELS }))) throw notFound();
      ctx.log.error({ cluster: found.cluster, err: found.message }, "cluster credentials cannot be opened");
      return writeStatus(ctx.res, unavailable(found.cluster, "its stored credentials cannot be opened"));
    }
    const cluster = found;
    const facts = { name: cluster.name, labels: cluster.labels };
    // Tenancy: a tenant's own namespace create/list/delete (src/server/tenancy/gateway-hook.ts).
    if (await deps.tenancy?.intercept(ctx, cluster, actor, target.requestURI)) return;
    if (!(await deps.access.visible(actor, facts))) throw notFound();
    const scoped = actor.extra?.["gatehouse.io/clusters"];
    if (scoped && !scoped.includes(cluster.name)) throw notFound();

    const imp = await checkImpersonation(impersonationHeaders(ctx.req.rawHeaders), actor, (a) =>
      deps.access.authorize(facts, a),
    );
    if (imp.kind === "error") return writeStatus(ctx.res, imp.status);
    const effective = imp.kind === "impersonate" ? await deps.access.withTeams(imp.user) : actor;
    if (imp.kind === "impersonate") noteAudit(ctx, { impersonatedUser: imp.user });

    let info;
    try {
      info = parseRequestInfo(ctx.req.method ?? "GET", target.requestURI);
    } catch (e) {
      if (e instanceof RequestInfoError)
        throw new HttpError(e.code === "InvalidPath" ? "BadRequest" : "InternalError", e.message);
      throw e;
    }
    const attrs = requestAttributes(info, effective);
    const decision = await deps.access.authorize(facts, attrs);
    noteAudit(ctx, {
      cluster: cluster.name,
      decision: decision.decision === "allow" ? "allow" : "forbid",
      reason: decision.reason,
    });
    if (decision.decision !== "allow") {
      ctx.log.info(
        { cluster: cluster.name, verb: attrs.verb, user: effective.username },
        "denied by central authorization",
      );
      return writeStatus(ctx.res, forbidden(attrs, decision.reason));
    }

    if (ctx.upgrade) {
      return proxyUpgrade({
        req: ctx.req,
        res: ctx.res,
        socket: ctx.upgrade.socket,
        head: ctx.upgrade.head,
        cluster,
        requestURI: target.requestURI,
        user: effective,
        auditId: ctx.requestId,
        log: () => ctx.log,
        timeoutMs: deps.responseTimeoutMs,
      });
    }
    let body: Buffer | undefined;
    if (isSelfSubjectAccessReview(ctx.req.method ?? "", target.requestURI)) {
      const r = await centralSelfReview(
        ctx.req,
        effective,
        (a) => deps.access.authorize(facts, a),
        deps.maxBodyBytes,
      );
      if (r.kind === "answer") return writeJSON(ctx.res, 201, r.review);
      body = r.body;
    }
    return forward({
      ...(body ? { body } : {}),
      longRunning: isLongRunning(info),
      req: ctx.req,
      res: ctx.res,
      cluster,
      requestURI: target.requestURI,
      user: effective,
      auditId: ctx.requestId,
      log: () => ctx.log,
      pools: deps.pools,
      responseTimeoutMs: deps.responseTimeoutMs,
    });
  };
}

/**
 * The registered cluster, or undefined. A cluster whose stored credentials cannot be opened (a key
 * removed from the key ring, a damaged row) is a 503 naming it: the request goes nowhere, and the
 * caller learns it is the cluster's registration, not their request, that is wrong. The 503 is only
 * answered to callers who may see the cluster (after the visibility check), others get the 404.
 */
async function clusterFor(
  registry: ClusterRegistry,
  name: string,
): Promise<ClusterTarget | ClusterCredentialsError | undefined> {
  try {
    return await registry.get(name);
  } catch (e) {
    if (e instanceof ClusterCredentialsError) return e;
    throw e;
  }
}
