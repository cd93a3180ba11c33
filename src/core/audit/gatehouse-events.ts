import type { UserInfo } from "../k8s/index.js";
import { ANNOTATION } from "./annotations.js";
import { eventUser } from "./event.js";
import type { Impact } from "./impact.js";
import { AUDIT_API_VERSION, type Event } from "./types.js";

/**
 * Gatehouse's own auditable actions: a closed set of kinds, each rendered as an audit.k8s.io/v1 Event
 * so that one store, one query and one hash chain hold cluster requests and Gatehouse actions alike.
 *
 * Representation: a resource-style event in the API group gatehouse.io (version v1alpha1), with
 * objectRef naming what was acted on (users, teams, clusters, accessbindings, tokens, accesskeys,
 * sessions), a Kubernetes verb (create, update, delete), level Metadata, stage ResponseComplete, and
 * annotations gatehouse.io/event-kind (the kind below) and gatehouse.io/impact. Details that have no
 * Event field go into gatehouse.io/... annotations. Secrets (token values, passwords) never appear.
 */
export type GatehouseEvent =
  | { kind: "login.succeeded"; provider: string; sessionId: string }
  | { kind: "login.failed"; provider: string; reason: string; attemptedUsername?: string }
  | { kind: "token.issued"; tokenId: string; subject: string; expiresAt?: string }
  | { kind: "token.revoked"; tokenId: string; subject: string; reason?: string }
  | { kind: "accesskey.issued"; keyId: string; subject: string; expiresAt?: string }
  | { kind: "accesskey.revoked"; keyId: string; subject: string; reason?: string }
  | { kind: "user.created" | "user.updated" | "user.deleted"; username: string }
  | { kind: "team.created" | "team.updated" | "team.deleted"; team: string }
  | { kind: "cluster.created" | "cluster.updated" | "cluster.deleted"; cluster: string }
  | { kind: "accessbinding.created" | "accessbinding.updated" | "accessbinding.deleted"; binding: string };

export type GatehouseEventKind = GatehouseEvent["kind"];

export const GATEHOUSE_EVENT_KINDS: readonly GatehouseEventKind[] = [
  "login.succeeded",
  "login.failed",
  "token.issued",
  "token.revoked",
  "accesskey.issued",
  "accesskey.revoked",
  "user.created",
  "user.updated",
  "user.deleted",
  "team.created",
  "team.updated",
  "team.deleted",
  "cluster.created",
  "cluster.updated",
  "cluster.deleted",
  "accessbinding.created",
  "accessbinding.updated",
  "accessbinding.deleted",
];

export const GATEHOUSE_GROUP = "gatehouse.io";
export const GATEHOUSE_VERSION = "v1alpha1";

/** Who acted, and the context of the request that carried the action. */
export interface GatehouseEventContext {
  auditID: string;
  /** The acting user; for a failed login, leave unset (recorded as system:anonymous). */
  actor?: UserInfo;
  requestURI: string;
  sourceIPs: readonly string[];
  userAgent?: string;
  /** formatMicroTime of when the action happened. */
  timestamp: string;
}

interface Shape {
  resource: string;
  name: string;
  verb: "create" | "update" | "delete";
  impact: Impact;
  code: number;
  details: Record<string, string | undefined>;
}

/** Logins change nothing but a session: read. Everything else changes who may do what: privileged. */
function shape(e: GatehouseEvent): Shape {
  switch (e.kind) {
    case "login.succeeded":
      return {
        resource: "sessions",
        name: e.sessionId,
        verb: "create",
        impact: "read",
        code: 201,
        details: { "login-provider": e.provider },
      };
    case "login.failed":
      return {
        resource: "sessions",
        name: "",
        verb: "create",
        impact: "read",
        code: 401,
        details: {
          "login-provider": e.provider,
          "login-reason": e.reason,
          "attempted-username": e.attemptedUsername,
        },
      };
    case "token.issued":
      return {
        resource: "tokens",
        name: e.tokenId,
        verb: "create",
        impact: "privileged",
        code: 201,
        details: { subject: e.subject, "expires-at": e.expiresAt },
      };
    case "token.revoked":
      return {
        resource: "tokens",
        name: e.tokenId,
        verb: "delete",
        impact: "privileged",
        code: 200,
        details: { subject: e.subject, "revoke-reason": e.reason },
      };
    case "accesskey.issued":
      return {
        resource: "accesskeys",
        name: e.keyId,
        verb: "create",
        impact: "privileged",
        code: 201,
        details: { subject: e.subject, "expires-at": e.expiresAt },
      };
    case "accesskey.revoked":
      return {
        resource: "accesskeys",
        name: e.keyId,
        verb: "delete",
        impact: "privileged",
        code: 200,
        details: { subject: e.subject, "revoke-reason": e.reason },
      };
    case "user.created":
    case "user.updated":
    case "user.deleted":
      return change(e.kind, "users", e.username);
    case "team.created":
    case "team.updated":
    case "team.deleted":
      return change(e.kind, "teams", e.team);
    case "cluster.created":
    case "cluster.updated":
    case "cluster.deleted":
      return change(e.kind, "clusters", e.cluster);
    case "accessbinding.created":
    case "accessbinding.updated":
    case "accessbinding.deleted":
      return change(e.kind, "accessbindings", e.binding);
  }
}

function change(kind: GatehouseEventKind, resource: string, name: string): Shape {
  const action = kind.slice(kind.indexOf(".") + 1);
  const verb = action === "created" ? "create" : action === "deleted" ? "delete" : "update";
  return { resource, name, verb, impact: "privileged", code: verb === "create" ? 201 : 200, details: {} };
}

/** Render a Gatehouse action as an audit.k8s.io/v1 Event. */
export function renderGatehouseEvent(e: GatehouseEvent, ctx: GatehouseEventContext): Event {
  const s = shape(e);
  const annotations: Record<string, string> = {
    [ANNOTATION.eventKind]: e.kind,
    [ANNOTATION.impact]: s.impact,
  };
  for (const [k, v] of Object.entries(s.details))
    if (v !== undefined && v !== "") annotations[`gatehouse.io/${k}`] = v;
  const actor = ctx.actor ?? { username: "system:anonymous", groups: ["system:unauthenticated"] };
  const failed = s.code >= 400;
  return {
    kind: "Event",
    apiVersion: AUDIT_API_VERSION,
    level: "Metadata",
    auditID: ctx.auditID,
    stage: "ResponseComplete",
    requestURI: ctx.requestURI,
    verb: s.verb,
    user: eventUser(actor),
    ...(ctx.sourceIPs.length > 0 ? { sourceIPs: [...ctx.sourceIPs] } : {}),
    ...(ctx.userAgent ? { userAgent: ctx.userAgent } : {}),
    objectRef: {
      resource: s.resource,
      ...(s.name !== "" ? { name: s.name } : {}),
      apiGroup: GATEHOUSE_GROUP,
      apiVersion: GATEHOUSE_VERSION,
    },
    responseStatus: failed
      ? { metadata: {}, status: "Failure", reason: "Unauthorized", code: s.code }
      : { metadata: {}, code: s.code },
    requestReceivedTimestamp: ctx.timestamp,
    stageTimestamp: ctx.timestamp,
    annotations,
  };
}

/** The Gatehouse event kind an event records, or undefined for a cluster request. */
export function gatehouseEventKind(e: Event): GatehouseEventKind | undefined {
  const k = e.annotations?.[ANNOTATION.eventKind];
  return (GATEHOUSE_EVENT_KINDS as readonly string[]).includes(k ?? "")
    ? (k as GatehouseEventKind)
    : undefined;
}
