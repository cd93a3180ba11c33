import {
  parseRequestInfo,
  RequestInfoError,
  requestAttributes,
  type RequestAttributes,
  type UserInfo,
} from "../../k8s/index.js";
import type { Event } from "../types.js";

/** One API request seen in the audit log, as the authorizer saw it, with the event that recorded it. */
export interface ObservedRequest {
  attributes: RequestAttributes;
  event: { auditID: string; verb: string; requestURI: string; timestamp: string; code?: number };
}

/** What selects the events audit2rbac learns from. */
export interface EventFilter {
  /** Usernames (service accounts as system:serviceaccount:NS:NAME). */
  usernames: readonly string[];
  /** Keep only requests on objects in this namespace (audit2rbac's -n). */
  namespace?: string;
  /** Keep only requests received at or after this time (epoch ms). */
  sinceMs?: number;
}

/**
 * The user whose permissions a request exercised: the impersonated user when there is one, as
 * audit2rbac does (the authenticated user only asked to act as them).
 */
export function actingUser(e: Event): UserInfo {
  const u = e.impersonatedUser ?? e.user;
  return { username: u.username ?? "", groups: [...(u.groups ?? [])] };
}

const VERB_METHODS: Readonly<Record<string, string>> = {
  get: "GET",
  list: "GET",
  watch: "GET",
  proxy: "GET",
  create: "POST",
  update: "PUT",
  patch: "PATCH",
  delete: "DELETE",
  deletecollection: "DELETE",
};

/**
 * The request attributes kube-apiserver authorized for an event. They are re-derived from the
 * request URI with the same parser the gateway uses, rather than read from objectRef: objectRef is
 * completed from the request body after authorization (a create records the new object's name,
 * which the authorizer never saw), so rules built from it could grant nothing. objectRef is the
 * fallback for a URI that does not parse. Undefined when neither says what was requested.
 */
export function eventAttributes(e: Event): RequestAttributes | undefined {
  const user = actingUser(e);
  const method = VERB_METHODS[e.verb] ?? e.verb.toUpperCase();
  let info;
  try {
    info = parseRequestInfo(method, e.requestURI);
  } catch (err) {
    if (!(err instanceof RequestInfoError)) throw err;
    info = undefined;
  }
  if (info && (info.isResourceRequest || !e.objectRef)) {
    return { ...requestAttributes(info, user), verb: e.verb };
  }
  const ref = e.objectRef;
  if (!ref) return undefined;
  return {
    kind: "resource",
    user,
    verb: e.verb,
    namespace: ref.namespace ?? "",
    apiGroup: ref.apiGroup ?? "",
    apiVersion: ref.apiVersion ?? "",
    resource: ref.resource ?? "",
    subresource: ref.subresource ?? "",
    // An unauthorized create never has a name; an authorized one got it from the body.
    name: e.verb === "create" ? "" : (ref.name ?? ""),
  };
}

/**
 * The requests to learn from: events of the selected users (impersonated user preferred), one per
 * auditID (kube-apiserver writes an event per stage), in log order.
 */
export function observedRequests(events: readonly Event[], filter: EventFilter): ObservedRequest[] {
  const seen = new Set<string>();
  const out: ObservedRequest[] = [];
  for (const e of events) {
    if (!filter.usernames.includes(actingUser(e).username)) continue;
    if (filter.namespace !== undefined && e.objectRef?.namespace !== filter.namespace) continue;
    if (filter.sinceMs !== undefined && !(Date.parse(e.requestReceivedTimestamp) >= filter.sinceMs)) continue;
    const key = `${e.auditID}\n${actingUser(e).username}`;
    if (e.auditID !== "" && seen.has(key)) continue;
    seen.add(key);
    const attributes = eventAttributes(e);
    if (!attributes) continue;
    const code = e.responseStatus?.code;
    out.push({
      attributes,
      event: {
        auditID: e.auditID,
        verb: e.verb,
        requestURI: e.requestURI,
        timestamp: e.requestReceivedTimestamp,
        ...(code !== undefined ? { code } : {}),
      },
    });
  }
  return out;
}
