import { TENANT_LABEL } from "./types.js";

/**
 * A tenant's namespace watch, event by event. The cluster's watch is opened with Gatehouse's
 * credential and the tenant label selector, so the cluster already sends only the caller's
 * tenants' namespaces; this is the second gate, and it decides on what the gateway relays, not on
 * what the cluster meant to send:
 *
 *  - ADDED, MODIFIED, DELETED pass only if the object (a Namespace or its PartialObjectMetadata, or
 *    every row of a Table) carries
 *    the tenant label of one of the caller's tenants; anything else is dropped. A namespace leaving
 *    the selector arrives as DELETED with its last matching state, which passes (the caller saw it).
 *  - BOOKMARK is rebuilt from the resourceVersion (and the initial-events-end annotation) alone:
 *    nothing else of the cluster's object goes out.
 *  - ERROR is rebuilt as a Status with its code and reason; the message only for 410 (an expired
 *    resourceVersion, which clients act on), otherwise a fixed one: the cluster's words could name
 *    anything.
 *  - Any other event type is dropped.
 */

type Json = Record<string, unknown>;

export type WatchVerdict = { kind: "pass"; event: Json } | { kind: "drop"; why: string };

const INITIAL_EVENTS_END = "k8s.io/initial-events-end";

const obj = (v: unknown): Json | undefined =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : undefined;

function tenantOf(o: unknown): string | undefined {
  const labels = obj(obj(obj(o)?.["metadata"])?.["labels"]);
  const t = labels?.[TENANT_LABEL];
  return typeof t === "string" ? t : undefined;
}

/** Judge one watch event (parsed JSON) for a caller whose tenants are `tenants`. */
export function filterWatchEvent(
  event: unknown,
  tenants: ReadonlySet<string>,
  opts: { dropRowObjects?: boolean } = {},
): WatchVerdict {
  const e = obj(event);
  const type = e?.["type"];
  const o = obj(e?.["object"]);
  if (!e || typeof type !== "string" || !o) return { kind: "drop", why: "not a watch event" };
  switch (type) {
    case "ADDED":
    case "MODIFIED":
    case "DELETED": {
      if (o["kind"] === "Namespace" || o["kind"] === "PartialObjectMetadata") {
        const t = tenantOf(o);
        return t !== undefined && tenants.has(t)
          ? { kind: "pass", event: { type, object: o } }
          : { kind: "drop", why: "a namespace of no tenant of the caller" };
      }
      if (o["kind"] === "Table") {
        const rows = o["rows"];
        if (!Array.isArray(rows) || rows.length === 0) return { kind: "drop", why: "a Table without rows" };
        for (const r of rows) {
          const t = tenantOf(obj(r)?.["object"]);
          if (t === undefined || !tenants.has(t))
            return { kind: "drop", why: "a Table row of no tenant of the caller" };
        }
        const out = opts.dropRowObjects
          ? {
              ...o,
              rows: rows.map((r) => {
                const { object: _o, ...rest } = r as Json;
                return rest;
              }),
            }
          : o;
        return { kind: "pass", event: { type, object: out } };
      }
      return { kind: "drop", why: `an object of kind ${String(o["kind"])}` };
    }
    case "BOOKMARK": {
      const meta = obj(o["metadata"]);
      const rv = meta?.["resourceVersion"];
      if (typeof rv !== "string") return { kind: "drop", why: "a bookmark without a resourceVersion" };
      const end = obj(meta?.["annotations"])?.[INITIAL_EVENTS_END];
      const kind = o["kind"] === "Table" || o["kind"] === "PartialObjectMetadata" ? o["kind"] : "Namespace";
      const apiVersion =
        kind === "Namespace"
          ? "v1"
          : typeof o["apiVersion"] === "string"
            ? o["apiVersion"]
            : "meta.k8s.io/v1";
      return {
        kind: "pass",
        event: {
          type,
          object: {
            kind,
            apiVersion,
            metadata: {
              resourceVersion: rv,
              ...(typeof end === "string" ? { annotations: { [INITIAL_EVENTS_END]: end } } : {}),
            },
            ...(kind === "Table" ? { columnDefinitions: [], rows: [] } : {}),
            ...(kind === "Namespace" ? { spec: {}, status: {} } : {}),
          },
        },
      };
    }
    case "ERROR": {
      const code = typeof o["code"] === "number" ? o["code"] : 500;
      const reason = typeof o["reason"] === "string" ? o["reason"] : "";
      const message =
        code === 410 && typeof o["message"] === "string"
          ? o["message"]
          : `the cluster ended the watch (${reason || code})`;
      return {
        kind: "pass",
        event: {
          type,
          object: {
            kind: "Status",
            apiVersion: "v1",
            metadata: {},
            status: "Failure",
            message,
            reason,
            code,
          },
        },
      };
    }
    default:
      return { kind: "drop", why: `an event of type ${type}` };
  }
}

/**
 * The Accept header for the cluster: the client's JSON choices only (Table or plain), in its order,
 * because the events must be read to be filtered. Undefined when the client accepts no JSON.
 */
export function jsonAccept(accept: string | undefined): string | undefined {
  const all = (accept ?? "").trim() === "" ? ["application/json"] : (accept ?? "").split(",");
  const kept: string[] = [];
  for (const raw of all) {
    const a = raw.trim();
    const type = (a.split(";")[0] ?? "").trim().toLowerCase();
    if (type === "application/json") kept.push(a);
    else if (type === "*/*" || type === "application/*") kept.push("application/json");
  }
  return kept.length > 0 ? [...new Set(kept)].join(",") : undefined;
}
