import type { Filter, RequestContext } from "../context.js";
import {
  ANNOTATION,
  buildEvent,
  classifyImpact,
  closedEarlyResponse,
  evaluatePolicy,
  formatMicroTime,
  levelAtLeast,
  panicResponse,
  policyForCluster,
  type PolicySet,
  type ObjectReference,
  type RequestAuditConfig,
  type RequestFacts,
  type ResponseFacts,
  type Stage,
} from "../../core/audit/index.js";
import {
  isLongRunning,
  parseRequestInfo,
  requestAttributes,
  type RequestAttributes,
  type RequestInfo,
  type UserInfo,
} from "../../core/k8s/index.js";
import type { AuditRecorder } from "../../audit/recorder.js";
import { tapRequest, tapResponse, tapUpgrade } from "../../audit/capture.js";
import { managementEventKind } from "../../audit/management.js";
import { protobufObjectMeta, type ObjectMetaFacts } from "../../audit/protobuf.js";
import type { AuditSource } from "../../store/index.js";
import { GATEWAY_PREFIX, parseTarget } from "../gateway/target.js";
import { HttpError, toStatus } from "../errors.js";

export interface AuditFilterDeps {
  recorder: AuditRecorder;
  policies: PolicySet;
  now: () => number;
}

/** Management-API writes are recorded at Metadata, ResponseComplete only: their bodies hold passwords. */
const MANAGEMENT: RequestAuditConfig = {
  level: "Metadata",
  omitStages: ["RequestReceived", "ResponseStarted"],
  omitManagedFields: true,
};

interface Plan {
  source: AuditSource;
  cluster: string;
  requestURI: string;
  info: RequestInfo | undefined;
  attrs: RequestAttributes;
  config: RequestAuditConfig;
}

/**
 * Record audit.k8s.io/v1 events for every authenticated gateway request and every management-API
 * write, as kube-apiserver's audit filter does (endpoints/filters/audit.go): RequestReceived before
 * handling, ResponseStarted when a long-running request sends its headers, then ResponseComplete,
 * or Panic when handling crashed. The policy is evaluated for the authenticated user, before
 * impersonation; the gateway handler notes the cluster, decision and impersonated user on the
 * context (ctx.audit) for the later stages.
 */
export function withAudit(deps: AuditFilterDeps): Filter {
  const maxBody = deps.recorder.options.maxEventBytes;
  return (next) => async (ctx) => {
    const user = ctx.user;
    const plan = user && planFor(ctx, user, deps.policies);
    if (!plan || plan.config.level === "None") return next(ctx);
    const receivedAt = formatMicroTime(ctx.receivedAt);
    const longRunning = plan.info !== undefined && isLongRunning(plan.info);
    const impact = classifyImpact(plan.attrs);
    const facts = (requestObject: unknown): RequestFacts => {
      const notes = ctx.audit ?? {};
      const annotations: Record<string, string> = {
        ...(notes.decision
          ? { [ANNOTATION.decision]: notes.decision, [ANNOTATION.reason]: notes.reason ?? "" }
          : {}),
        ...(plan.cluster !== "" ? { [ANNOTATION.cluster]: plan.cluster } : {}),
        [ANNOTATION.impact]: impact,
      };
      return {
        auditID: ctx.requestId,
        requestURI: plan.requestURI,
        attributes: plan.attrs,
        ...(notes.impersonatedUser ? { impersonatedUser: notes.impersonatedUser } : {}),
        sourceIPs: ctx.req.socket.remoteAddress ? [ctx.req.socket.remoteAddress] : [],
        ...(ctx.req.headers["user-agent"] ? { userAgent: ctx.req.headers["user-agent"] } : {}),
        requestReceivedTimestamp: receivedAt,
        ...(requestObject !== undefined ? { requestObject } : {}),
        annotations,
      };
    };
    const emit = (
      stage: Stage,
      res: ResponseFacts | undefined,
      requestObject: unknown,
      extra?: Record<string, string>,
      meta?: ObjectMetaFacts,
    ) => {
      const base = facts(requestObject);
      const f = extra ? { ...base, annotations: { ...base.annotations, ...extra } } : base;
      const e = buildEvent(stage, plan.config, f, res, formatMicroTime(deps.now()));
      if (e?.objectRef && meta && plan.attrs.verb !== "patch") e.objectRef = completeRef(e.objectRef, meta);
      return e ? deps.recorder.record(e, plan.source, plan.cluster) : Promise.resolve();
    };

    try {
      await emit("RequestReceived", undefined, undefined);
    } catch {
      throw new HttpError("InternalError", "the audit log is unavailable: the request was not forwarded");
    }
    const hasBody =
      plan.attrs.kind === "resource" &&
      !["get", "list", "watch", "delete", "deletecollection"].includes(plan.attrs.verb);
    const reqTap = hasBody ? tapRequest(ctx.req, maxBody) : undefined;
    // Only what `finish` parses is copied: a Status on failures, the object at RequestResponse.
    const recordsBody = (status: number): boolean =>
      status >= 300 || levelAtLeast(plan.config.level, "RequestResponse");
    const resTap = tapResponse(
      ctx.res,
      longRunning ? 0 : maxBody,
      () => {
        if (longRunning)
          void emit("ResponseStarted", { code: ctx.res.statusCode }, undefined).catch(() => undefined);
      },
      recordsBody,
    );
    let switched = false;
    if (ctx.upgrade)
      tapUpgrade(ctx.upgrade.socket, () => {
        switched = true;
        void emit("ResponseStarted", { code: 101 }, undefined).catch(() => undefined);
      });
    let outcome: ResponseFacts | undefined;
    let stage: Stage = "ResponseComplete";
    const finish = async (): Promise<void> => {
      const body = recordsBody(ctx.res.statusCode) ? resTap.json() : undefined;
      const res: ResponseFacts =
        outcome ??
        (switched ? { code: 101 } : undefined) ??
        (!ctx.res.headersSent && !ctx.res.writableEnded
          ? closedEarlyResponse()
          : {
              code: ctx.res.statusCode,
              ...(isStatus(body) ? { status: body } : body !== undefined ? { responseObject: body } : {}),
            });
      const requestObject = reqTap?.json();
      // A protobuf body is not recorded, but its metadata completes objectRef (as for JSON bodies).
      const pbMeta = requestObject === undefined ? protobufBodyMeta(reqTap?.bytes()) : undefined;
      const kind =
        plan.source === "gatehouse" && res.code < 300 ? managementEventKind(plan.attrs) : undefined;
      await emit(
        stage,
        res,
        requestObject,
        kind ? { [ANNOTATION.eventKind]: kind } : undefined,
        pbMeta,
      ).catch(() => undefined);
    };
    try {
      await next(ctx);
    } catch (e) {
      const { status, internal } = toStatus(e);
      outcome = internal
        ? panicResponse(e instanceof Error ? e.name : "unknown error")
        : {
            code: status.code,
            status: {
              status: status.status,
              message: status.message,
              reason: status.reason,
              ...(status.details ? { details: status.details as Record<string, unknown> } : {}),
            },
          };
      if (internal) stage = "Panic";
      await finish();
      throw e;
    }
    await finish();
  };
}

function protobufBodyMeta(body: Buffer | undefined): ObjectMetaFacts | undefined {
  return body ? protobufObjectMeta(body) : undefined;
}

/** Fill objectRef's empty fields from the body's metadata, in objectRef's field order. */
function completeRef(ref: ObjectReference, meta: ObjectMetaFacts): ObjectReference {
  const out: ObjectReference = {
    ...(ref.resource ? { resource: ref.resource } : {}),
    ...(ref.namespace || meta.namespace ? { namespace: ref.namespace || meta.namespace } : {}),
    ...(ref.name || meta.name ? { name: ref.name || meta.name } : {}),
    ...(ref.uid || meta.uid ? { uid: ref.uid || meta.uid } : {}),
    ...(ref.apiGroup ? { apiGroup: ref.apiGroup } : {}),
    ...(ref.apiVersion ? { apiVersion: ref.apiVersion } : {}),
    ...(ref.resourceVersion || meta.resourceVersion
      ? { resourceVersion: ref.resourceVersion || meta.resourceVersion }
      : {}),
    ...(ref.subresource ? { subresource: ref.subresource } : {}),
  };
  return out;
}

function isStatus(
  o: unknown,
): o is { status?: string; message?: string; reason?: string; details?: Record<string, unknown> } {
  return typeof o === "object" && o !== null && (o as Record<string, unknown>)["kind"] === "Status";
}

/** What to record for this request, or undefined when it is not audited (management-API reads). */
function planFor(ctx: RequestContext, user: UserInfo, policies: PolicySet): Plan | undefined {
  const method = ctx.req.method ?? "GET";
  const raw = ctx.req.url ?? "/";
  let source: AuditSource;
  let cluster = "";
  let requestURI = raw;
  if (ctx.rawPath.startsWith(GATEWAY_PREFIX)) {
    source = "gateway";
    try {
      const t = parseTarget(raw);
      cluster = t.cluster;
      requestURI = t.requestURI;
    } catch {
      // An unparseable target is refused by the gateway; it is still recorded, against no cluster.
    }
  } else {
    if (method === "GET" || method === "HEAD" || method === "OPTIONS") return undefined;
    source = "gatehouse";
  }
  let info: RequestInfo | undefined;
  let attrs: RequestAttributes;
  try {
    info = parseRequestInfo(method, requestURI);
    attrs = requestAttributes(info, user);
  } catch {
    attrs = { kind: "nonResource", user, verb: method.toLowerCase(), path: requestURI.split("?")[0] ?? "/" };
  }
  const config =
    source === "gatehouse"
      ? MANAGEMENT
      : evaluatePolicy(policyForCluster(policies, cluster || undefined), attrs);
  return { source, cluster, requestURI, info, attrs, config };
}
