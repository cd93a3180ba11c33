import { ANNOTATION } from "./annotations.js";
import { levelAtLeast, type Event } from "./types.js";

/**
 * A copy of an object without metadata.managedFields, as kube-apiserver's copyWithoutManagedFields:
 * the object itself, each item of a list, and each row object of a meta/v1 Table. Anything else is
 * returned as it is.
 */
export function withoutManagedFields(obj: unknown): unknown {
  if (!isRecord(obj)) return obj;
  let out: Record<string, unknown> = stripMeta(obj);
  if (Array.isArray(out["items"])) {
    out = { ...out, items: (out["items"] as unknown[]).map((i) => (isRecord(i) ? stripMeta(i) : i)) };
  }
  if (out["kind"] === "Table" && Array.isArray(out["rows"])) {
    out = {
      ...out,
      rows: (out["rows"] as unknown[]).map((r) =>
        isRecord(r) && isRecord(r["object"]) ? { ...r, object: stripMeta(r["object"]) } : r,
      ),
    };
  }
  return out;
}

function stripMeta(o: Record<string, unknown>): Record<string, unknown> {
  const meta = o["metadata"];
  if (!isRecord(meta) || !("managedFields" in meta)) return o;
  const { managedFields: _dropped, ...rest } = meta;
  return { ...o, metadata: rest };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** kube-apiserver's webhook default --audit-webhook-truncate-max-event-size. */
export const DEFAULT_MAX_EVENT_SIZE = 100 * 1024;

export type TruncateResult =
  { kind: "kept"; event: Event } | { kind: "truncated"; event: Event } | { kind: "dropped"; size: number };

const encoder = new TextEncoder();

/** The size kube-apiserver's truncate plugin measures: the event's JSON encoding, in bytes. */
export function eventSize(e: Event): number {
  return encoder.encode(JSON.stringify(e)).length;
}

/**
 * The truncate backend's rule: an event over the limit at level Request or higher loses its request
 * and response objects and gains audit.k8s.io/truncated: "true"; an event still over the limit (or
 * over it at Metadata) is dropped, and the caller must count and log the drop.
 */
export function truncateEvent(e: Event, maxEventSize: number = DEFAULT_MAX_EVENT_SIZE): TruncateResult {
  const size = eventSize(e);
  if (size <= maxEventSize) return { kind: "kept", event: e };
  if (!levelAtLeast(e.level, "Request")) return { kind: "dropped", size };
  const { requestObject: _req, responseObject: _res, ...rest } = e;
  const truncated: Event = {
    ...rest,
    annotations: { ...(e.annotations ?? {}), [ANNOTATION.truncated]: "true" },
  };
  const newSize = eventSize(truncated);
  return newSize <= maxEventSize
    ? { kind: "truncated", event: truncated }
    : { kind: "dropped", size: newSize };
}
