/**
 * audit.k8s.io/v1 shapes, with the field names kube-apiserver writes
 * (k8s.io/apiserver/pkg/apis/audit/v1/types.go). Gatehouse stores and serves exactly these.
 */

export const AUDIT_API_VERSION = "audit.k8s.io/v1";

export const LEVELS = ["None", "Metadata", "Request", "RequestResponse"] as const;
export type Level = (typeof LEVELS)[number];

export const STAGES = ["RequestReceived", "ResponseStarted", "ResponseComplete", "Panic"] as const;
export type Stage = (typeof STAGES)[number];

/** Levels are ordered: None < Metadata < Request < RequestResponse. */
export function levelAtLeast(level: Level, min: Level): boolean {
  return LEVELS.indexOf(level) >= LEVELS.indexOf(min);
}

/** authentication.k8s.io/v1 UserInfo as it appears in events. */
export interface EventUser {
  /** Absent (serialised as `"user":{}`) when authentication failed, as kube-apiserver records a 401. */
  username?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

export interface ObjectReference {
  resource?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  apiGroup?: string;
  apiVersion?: string;
  resourceVersion?: string;
  subresource?: string;
}

/** meta/v1 Status as recorded in responseStatus: only its bounded fields. */
export interface ResponseStatus {
  metadata: Record<string, never>;
  status?: "Success" | "Failure";
  message?: string;
  reason?: string;
  details?: Record<string, unknown>;
  code: number;
}

export interface Event {
  kind: "Event";
  apiVersion: typeof AUDIT_API_VERSION;
  level: Level;
  auditID: string;
  stage: Stage;
  requestURI: string;
  verb: string;
  user: EventUser;
  impersonatedUser?: EventUser;
  sourceIPs?: string[];
  userAgent?: string;
  objectRef?: ObjectReference;
  responseStatus?: ResponseStatus;
  requestObject?: unknown;
  responseObject?: unknown;
  /** metav1.MicroTime: RFC 3339 with microseconds, "2024-05-01T10:00:00.123456Z". */
  requestReceivedTimestamp: string;
  stageTimestamp: string;
  annotations?: Record<string, string>;
}

export interface EventList {
  kind: "EventList";
  apiVersion: typeof AUDIT_API_VERSION;
  metadata: { resourceVersion?: string; continue?: string };
  items: Event[];
}

export interface GroupResources {
  group: string;
  resources: readonly string[];
  resourceNames: readonly string[];
}

/** A validated, normalised policy rule: absent lists are empty, absent group is "". */
export interface PolicyRule {
  level: Level;
  users: readonly string[];
  userGroups: readonly string[];
  verbs: readonly string[];
  resources: readonly GroupResources[];
  namespaces: readonly string[];
  nonResourceURLs: readonly string[];
  omitStages: readonly Stage[];
  /** Unset means "use the policy's default". */
  omitManagedFields?: boolean;
}

export interface Policy {
  rules: readonly PolicyRule[];
  omitStages: readonly Stage[];
  omitManagedFields: boolean;
}

/** What a policy decides for one request (apiserver's RequestAuditConfig). */
export interface RequestAuditConfig {
  level: Level;
  /** Sorted by name, without duplicates. */
  omitStages: readonly Stage[];
  omitManagedFields: boolean;
  /** Index of the first matching rule, or undefined when none matched. */
  rule?: number;
}
