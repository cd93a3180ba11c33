import type { TLSSocket } from "node:tls";
import type { Filter, RequestContext } from "../context.js";
import {
  ANNOTATION,
  buildEvent,
  classifyImpact,
  evaluatePolicy,
  formatMicroTime,
  policyForCluster,
  type Event,
  type PolicySet,
} from "../../core/audit/index.js";
import { parseRequestInfo, requestAttributes, type RequestAttributes } from "../../core/k8s/index.js";
import type { AuditRecorder } from "../../audit/recorder.js";
import { SUPPRESSED_ANNOTATION, type UnauthenticatedLimiter } from "../../audit/unauthenticated.js";
import { GATEWAY_PREFIX, parseTarget } from "../gateway/target.js";

export interface FailedAuthnAuditDeps {
  recorder: AuditRecorder;
  policies: PolicySet;
  limiter: UnauthenticatedLimiter;
  now: () => number;
}

/** The user of a request whose authentication failed: nobody (kube-apiserver writes "user":{}). */
const NOBODY = { username: "", groups: [] as string[] };

/**
 * Audit requests that failed authentication, as kube-apiserver's WithFailedAuthenticationAudit
 * (endpoints/filters/authn_audit.go) does: the policy is evaluated with no user (so rules naming
 * users or groups never match), and one event is recorded at stage ResponseStarted with
 * `"user":{}`, responseStatus code 401 and the message naming the credentials tried
 * ("Authentication failed, attempted: bearer" or "..., no credentials provided"). Gateway requests
 * use their cluster's policy and carry the cluster annotation; others use the global policy.
 * The flood guard (src/audit/unauthenticated.ts) caps how many are recorded per source address.
 * Placed outside the authentication filter: it looks at what authentication answered.
 */
export function withFailedAuthenticationAudit(deps: FailedAuthnAuditDeps): Filter {
  return (next) => async (ctx) => {
    await next(ctx);
    // Authentication answered 401 before any route ran (public routes set ctx.route themselves).
    if (ctx.user !== undefined || ctx.route !== "unmatched" || ctx.res.statusCode !== 401) return;
    const event = failedAuthnEvent(ctx, deps);
    if (!event) return;
    const admission = deps.limiter.admit(ctx.req.socket.remoteAddress ?? "");
    if (!admission.record) return;
    if (admission.suppressedBefore > 0)
      event.e.annotations = {
        ...event.e.annotations,
        [SUPPRESSED_ANNOTATION]: String(admission.suppressedBefore),
      };
    // The response is written; the event is queued (batch) or committed (blocking) after it.
    await deps.recorder.record(event.e, event.source, event.cluster).catch(() => undefined);
  };
}

function failedAuthnEvent(
  ctx: RequestContext,
  deps: FailedAuthnAuditDeps,
): { e: Event; source: "gateway" | "gatehouse"; cluster: string } | undefined {
  const method = ctx.req.method ?? "GET";
  const raw = ctx.req.url ?? "/";
  let requestURI = raw;
  let cluster = "";
  const gateway = ctx.rawPath.startsWith(GATEWAY_PREFIX);
  if (gateway) {
    try {
      const t = parseTarget(raw);
      cluster = t.cluster;
      requestURI = t.requestURI;
    } catch {
      // Recorded against no cluster, as the audit filter does for an unparseable target.
    }
  }
  let attrs: RequestAttributes;
  try {
    attrs = requestAttributes(parseRequestInfo(method, requestURI), NOBODY);
  } catch {
    attrs = {
      kind: "nonResource",
      user: NOBODY,
      verb: method.toLowerCase(),
      path: requestURI.split("?")[0] ?? "/",
    };
  }
  const config = evaluatePolicy(policyForCluster(deps.policies, cluster || undefined), attrs);
  const received = formatMicroTime(ctx.receivedAt);
  const e = buildEvent(
    "ResponseStarted",
    config,
    {
      auditID: ctx.requestId,
      requestURI,
      attributes: attrs,
      sourceIPs: ctx.req.socket.remoteAddress ? [ctx.req.socket.remoteAddress] : [],
      ...(ctx.req.headers["user-agent"] ? { userAgent: ctx.req.headers["user-agent"] } : {}),
      requestReceivedTimestamp: received,
      annotations: {
        ...(cluster !== "" ? { [ANNOTATION.cluster]: cluster } : {}),
        [ANNOTATION.impact]: classifyImpact(attrs),
      },
    },
    { code: 401, status: { message: authMethods(ctx) } },
    formatMicroTime(deps.now()),
  );
  if (!e) return undefined;
  e.user = {};
  // kube-apiserver's Status here is bare: metadata, message and code only.
  e.responseStatus = { metadata: {}, message: authMethods(ctx), code: 401 };
  return { e, source: gateway ? "gateway" : "gatehouse", cluster };
}

/** kube-apiserver's getAuthMethods: which credentials the client tried. */
export function authMethods(ctx: RequestContext): string {
  const m: string[] = [];
  const auth = (ctx.req.headers.authorization ?? "").trim();
  const parts = auth.split(" ");
  if (parts[0]?.toLowerCase() === "basic" && parts.length > 1) m.push("basic");
  if (parts.length > 1 && parts[0]?.toLowerCase() === "bearer") m.push("bearer");
  if ((ctx.url.searchParams.get("access_token") ?? "").trim() !== "") m.push("access_token");
  const sock = ctx.req.socket as Partial<TLSSocket>;
  const cert = typeof sock.getPeerCertificate === "function" ? sock.getPeerCertificate() : undefined;
  if (cert && Object.keys(cert).length > 0) m.push("x509");
  return m.length > 0
    ? `Authentication failed, attempted: ${m.join(", ")}`
    : "Authentication failed, no credentials provided";
}
