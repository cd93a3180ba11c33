import type { RequestAttributes, UserInfo } from "../k8s/index.js";
import { ANNOTATION, type AuthorizationDecision } from "./annotations.js";
import { withoutManagedFields } from "./event-trim.js";
import type { Impact } from "./impact.js";
import {
  AUDIT_API_VERSION,
  levelAtLeast,
  type Event,
  type EventUser,
  type ObjectReference,
  type RequestAuditConfig,
  type ResponseStatus,
  type Stage,
} from "./types.js";

/**
 * Build audit.k8s.io/v1 events the way kube-apiserver's audit filter does
 * (endpoints/filters/audit.go, audit/request.go, audit/context.go). The shell emits, per request:
 * RequestReceived before handling; ResponseStarted when a long-running request (isLongRunning)
 * sends its headers; ResponseComplete when done; Panic instead of ResponseComplete on a crash.
 * Ids, clocks and bodies are passed in; nothing here does I/O.
 */

/** What is known about a request when it arrives. */
export interface RequestFacts {
  auditID: string;
  /** The request-target as the client sent it (path and query). */
  requestURI: string;
  /** Attributes from parseRequestInfo + requestAttributes; user is the authenticated user. */
  attributes: RequestAttributes;
  /** Set when the client asked to act as someone else (Impersonate-* headers). */
  impersonatedUser?: UserInfo;
  sourceIPs: readonly string[];
  userAgent?: string;
  /** formatMicroTime of the arrival time. */
  requestReceivedTimestamp: string;
  /** Decoded request body: an object for create/update, the patch itself for patch. */
  requestObject?: unknown;
  annotations?: Readonly<Record<string, string>>;
}

/** What is known about the response at a stage. */
export interface ResponseFacts {
  code: number;
  /** The meta/v1 Status body, when the response was one (errors, deletes). */
  status?: { status?: string; message?: string; reason?: string; details?: Record<string, unknown> };
  /** Decoded response body. */
  responseObject?: unknown;
}

const MAX_USER_AGENT = 1024;

/**
 * The event for one stage, or undefined when the policy says not to record it (level None, or the
 * stage omitted). RequestReceived events carry no response; their stageTimestamp is the arrival time.
 */
export function buildEvent(
  stage: Stage,
  config: RequestAuditConfig,
  req: RequestFacts,
  res: ResponseFacts | undefined,
  stageTimestamp: string,
): Event | undefined {
  if (config.level === "None" || config.omitStages.includes(stage)) return undefined;
  const a = req.attributes;
  const isResource = a.kind === "resource";
  const body = (o: unknown): unknown => (config.omitManagedFields ? withoutManagedFields(o) : o);
  const ua = req.userAgent ?? "";
  const annotations = req.annotations ?? {};
  const e: Event = {
    kind: "Event",
    apiVersion: AUDIT_API_VERSION,
    level: config.level,
    auditID: req.auditID,
    stage,
    requestURI: req.requestURI,
    verb: a.verb,
    user: eventUser(a.user),
    ...(req.impersonatedUser ? { impersonatedUser: eventUser(req.impersonatedUser) } : {}),
    ...(req.sourceIPs.length > 0 ? { sourceIPs: [...req.sourceIPs] } : {}),
    ...(ua !== ""
      ? { userAgent: ua.length > MAX_USER_AGENT ? ua.slice(0, MAX_USER_AGENT) + "...TRUNCATED" : ua }
      : {}),
    ...(isResource ? { objectRef: objectRef(a, stage === "RequestReceived" ? undefined : req) } : {}),
    ...(res && stage !== "RequestReceived" ? { responseStatus: responseStatus(res) } : {}),
    ...(isResource &&
    stage !== "RequestReceived" &&
    levelAtLeast(config.level, "Request") &&
    req.requestObject !== undefined
      ? { requestObject: body(req.requestObject) }
      : {}),
    ...(isResource &&
    stage === "ResponseComplete" &&
    levelAtLeast(config.level, "RequestResponse") &&
    res?.responseObject !== undefined
      ? { responseObject: body(res.responseObject) }
      : {}),
    requestReceivedTimestamp: req.requestReceivedTimestamp,
    stageTimestamp: stage === "RequestReceived" ? req.requestReceivedTimestamp : stageTimestamp,
    ...(Object.keys(annotations).length > 0 ? { annotations: { ...annotations } } : {}),
  };
  return e;
}

/** authentication/v1 UserInfo as kube-apiserver serialises it (empty fields omitted). */
export function eventUser(u: UserInfo): EventUser {
  return {
    username: u.username,
    ...(u.uid ? { uid: u.uid } : {}),
    ...(u.groups.length > 0 ? { groups: [...u.groups] } : {}),
    ...(u.extra && Object.keys(u.extra).length > 0
      ? { extra: Object.fromEntries(Object.entries(u.extra).map(([k, v]) => [k, [...v]])) }
      : {}),
  };
}

/**
 * objectRef from the request attributes; once the body is known (after RequestReceived) the empty
 * namespace, name, uid and resourceVersion are completed from the object's metadata, as
 * LogRequestObject does (so a create records the new object's name). A patch body is not an object.
 */
function objectRef(
  a: RequestAttributes & { kind: "resource" },
  req: RequestFacts | undefined,
): ObjectReference {
  const meta = a.verb !== "patch" ? metadataOf(req?.requestObject) : undefined;
  const pick = (own: string, key: string): string =>
    own !== "" ? own : typeof meta?.[key] === "string" ? (meta[key] as string) : "";
  const ref: Record<string, string> = {
    resource: a.resource,
    namespace: pick(a.namespace, "namespace"),
    name: pick(a.name, "name"),
    uid: pick("", "uid"),
    apiGroup: a.apiGroup,
    apiVersion: a.apiVersion,
    resourceVersion: pick("", "resourceVersion"),
    subresource: a.subresource,
  };
  return Object.fromEntries(Object.entries(ref).filter(([, v]) => v !== "")) as ObjectReference;
}

function metadataOf(o: unknown): Record<string, unknown> | undefined {
  if (typeof o !== "object" || o === null) return undefined;
  const m = (o as Record<string, unknown>)["metadata"];
  return typeof m === "object" && m !== null ? (m as Record<string, unknown>) : undefined;
}

/** responseStatus: the bounded fields of a Status body, or just the code. */
function responseStatus(res: ResponseFacts): ResponseStatus {
  const s = res.status;
  if (!s) return { metadata: {}, code: res.code };
  return {
    metadata: {},
    ...(s.status === "Success" || s.status === "Failure" ? { status: s.status } : {}),
    ...(s.message ? { message: s.message } : {}),
    ...(s.reason ? { reason: s.reason } : {}),
    ...(s.details ? { details: s.details } : {}),
    code: res.code,
  };
}

/** The response kube-apiserver records for a handler that panicked. */
export function panicResponse(detail: string): ResponseFacts {
  return {
    code: 500,
    status: { status: "Failure", reason: "InternalError", message: `APIServer panic'd: ${detail}` },
  };
}

/** The response recorded when a request ends without any status having been written. */
export function closedEarlyResponse(): ResponseFacts {
  return { code: 200, status: { status: "Success", message: "Connection closed early" } };
}

/** The annotations the gateway adds to every event it records for a cluster request. */
export function gatewayAnnotations(input: {
  decision: AuthorizationDecision;
  reason: string;
  cluster: string;
  impact: Impact;
}): Record<string, string> {
  return {
    [ANNOTATION.decision]: input.decision,
    [ANNOTATION.reason]: input.reason,
    [ANNOTATION.cluster]: input.cluster,
    [ANNOTATION.impact]: input.impact,
  };
}

/** metav1.MicroTime's JSON form from epoch milliseconds (fractions give microseconds). */
export function formatMicroTime(epochMs: number): string {
  const micros = Math.round(epochMs * 1000);
  const ms = Math.floor(micros / 1000);
  const iso = new Date(ms).toISOString(); // 2024-05-01T10:00:00.123Z
  const frac = String(((micros % 1_000_000) + 1_000_000) % 1_000_000).padStart(6, "0");
  return `${iso.slice(0, 19)}.${frac}Z`;
}
