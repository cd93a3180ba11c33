import { ParseError, type SourcedObject } from "../k8s/index.js";
import {
  AUDIT_API_VERSION,
  LEVELS,
  STAGES,
  type Event,
  type EventUser,
  type Level,
  type Stage,
} from "./types.js";

/** Event versions read from files: v1, and v1beta1 whose events have the same fields plus `timestamp`. */
const READABLE_VERSIONS = new Set([AUDIT_API_VERSION, "audit.k8s.io/v1beta1"]);

/**
 * Read one audit Event from a parsed document (audit log line, YAML document or EventList item),
 * returning it in audit.k8s.io/v1 form. Throws ParseError naming the document for anything that is
 * not an Event, or lacks the fields every event has.
 */
export function parseEvent(d: SourcedObject): Event {
  const o = d.object;
  if (o.kind !== "Event" || !READABLE_VERSIONS.has(String(o.apiVersion))) {
    const hint =
      o.apiVersion === "audit.k8s.io/v1alpha1" ? " (audit.k8s.io/v1alpha1 events are not supported)" : "";
    throw new ParseError(
      d.source,
      `expected apiVersion ${AUDIT_API_VERSION}, kind Event; got ${String(o.apiVersion)}, ${String(o.kind)}${hint}`,
    );
  }
  const bad = (what: string): never => {
    throw new ParseError(d.source, `invalid audit event: ${what}`);
  };
  const str = (k: string, required: boolean): string | undefined => {
    const v = o[k];
    if (v === undefined || v === null) return required ? bad(`${k} is required`) : undefined;
    return typeof v === "string" ? v : bad(`${k} must be a string`);
  };
  const level = str("level", true) as string;
  if (!(LEVELS as readonly string[]).includes(level)) bad(`unknown level ${JSON.stringify(level)}`);
  const stage = str("stage", true) as string;
  if (!(STAGES as readonly string[]).includes(stage)) bad(`unknown stage ${JSON.stringify(stage)}`);
  const user = eventUser(o["user"], "user", bad);
  if (!user) bad("user is required");
  const imp = eventUser(o["impersonatedUser"], "impersonatedUser", bad);
  const legacyTime = str("timestamp", false);
  const received = str("requestReceivedTimestamp", false) ?? legacyTime ?? "";
  const e: Event = {
    kind: "Event",
    apiVersion: AUDIT_API_VERSION,
    level: level as Level,
    auditID: str("auditID", true) as string,
    stage: stage as Stage,
    requestURI: str("requestURI", true) as string,
    verb: str("verb", true) as string,
    user: user as EventUser,
    ...(imp ? { impersonatedUser: imp } : {}),
    ...optional(o, "sourceIPs", Array.isArray),
    ...optional(o, "userAgent", (v) => typeof v === "string"),
    ...optional(o, "objectRef", isRecord),
    ...optional(o, "responseStatus", isRecord),
    ...optional(o, "requestObject", () => true),
    ...optional(o, "responseObject", () => true),
    requestReceivedTimestamp: received,
    stageTimestamp: str("stageTimestamp", false) ?? legacyTime ?? received,
    ...optional(o, "annotations", isRecord),
  };
  return e;
}

function eventUser(v: unknown, field: string, bad: (what: string) => never): EventUser | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isRecord(v)) return bad(`${field} must be an object`);
  // kube-apiserver writes "user":{} for a request whose authentication failed (username omitempty).
  if (v["username"] !== undefined && typeof v["username"] !== "string")
    return bad(`${field}.username must be a string`);
  const groups = v["groups"];
  if (
    groups !== undefined &&
    groups !== null &&
    !(Array.isArray(groups) && groups.every((g) => typeof g === "string"))
  ) {
    return bad(`${field}.groups must be a list of strings`);
  }
  return v as unknown as EventUser;
}

function optional(
  o: Record<string, unknown>,
  key: string,
  ok: (v: unknown) => boolean,
): Record<string, unknown> {
  const v = o[key];
  return v !== undefined && v !== null && ok(v) ? { [key]: v } : {};
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
