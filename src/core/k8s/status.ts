import type { RequestAttributes } from "./attributes.js";

/**
 * meta/v1 Status objects as kube-apiserver writes them, so kubectl prints what it normally prints.
 * Reasons and codes follow k8s.io/apimachinery/pkg/api/errors.
 */
export type StatusReason =
  | "BadRequest"
  | "Unauthorized"
  | "Forbidden"
  | "NotFound"
  | "AlreadyExists"
  | "Conflict"
  | "Invalid"
  | "MethodNotAllowed"
  | "NotAcceptable"
  | "RequestEntityTooLarge"
  | "UnsupportedMediaType"
  | "TooManyRequests"
  | "InternalError"
  | "ServiceUnavailable"
  | "Timeout"
  | "Expired"
  | "Gone";

export const REASON_CODE: Readonly<Record<StatusReason, number>> = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  NotAcceptable: 406,
  AlreadyExists: 409,
  Conflict: 409,
  Gone: 410,
  Expired: 410,
  RequestEntityTooLarge: 413,
  UnsupportedMediaType: 415,
  Invalid: 422,
  TooManyRequests: 429,
  InternalError: 500,
  ServiceUnavailable: 503,
  Timeout: 504,
};

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  causes?: { reason?: string; message?: string; field?: string }[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, never>;
  status: "Failure" | "Success";
  message: string;
  reason: StatusReason | "";
  details?: StatusDetails;
  code: number;
}

/** A failure Status. The message must be safe to show to the caller. */
export function failure(reason: StatusReason, message: string, details?: StatusDetails): Status {
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason,
    ...(details ? { details } : {}),
    code: REASON_CODE[reason],
  };
}

/** "pods" in group "apps" -> "pods.apps", as kube-apiserver's qualified resource strings. */
export function qualifiedResource(resource: string, group: string): string {
  return group === "" ? resource : `${resource}.${group}`;
}

/**
 * The 403 kube-apiserver returns when authorization denies a request
 * (endpoints/handlers/responsewriters.ForbiddenStatusError, then apierrors.NewForbidden).
 */
export function forbidden(a: RequestAttributes, reason: string): Status {
  const who = `User ${JSON.stringify(a.user.username)}`;
  let msg: string;
  if (a.kind === "nonResource") {
    msg = `${who} cannot ${a.verb} path ${JSON.stringify(a.path)}`;
  } else {
    const res = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
    const scope = a.namespace ? `in the namespace ${JSON.stringify(a.namespace)}` : "at the cluster scope";
    msg = `${who} cannot ${a.verb} resource ${JSON.stringify(res)} in API group ${JSON.stringify(a.apiGroup)} ${scope}`;
  }
  if (reason) msg = `${msg}: ${reason}`;
  const group = a.kind === "resource" ? a.apiGroup : "";
  const resource = a.kind === "resource" ? a.resource : "";
  const name = a.kind === "resource" ? a.name : "";
  const qr = qualifiedResource(resource, group);
  const message =
    resource === "" && group === ""
      ? `forbidden: ${msg}`
      : name === ""
        ? `${qr} is forbidden: ${msg}`
        : `${qr} ${JSON.stringify(name)} is forbidden: ${msg}`;
  return failure("Forbidden", message, {
    ...(name ? { name } : {}),
    ...(group ? { group } : {}),
    ...(resource ? { kind: resource } : {}),
  });
}
