import type { Router } from "../router.js";
import type { AuditFilter, AuditSource, Store } from "../../store/index.js";
import { AUDIT_API_VERSION, IMPACTS, type ChainHead } from "../../core/audit/index.js";
import { AUDIT_POLICY_KIND, policyFromSpec, verifyStoredChain, type AuditWriter } from "../../audit/index.js";
import { ParseError } from "../../core/k8s/index.js";
import type { KindSpec } from "./kind.js";
import { EventListError, maySendClusterEvents, parseEventList } from "../../audit/receiver.js";
import type { ClusterRegistry } from "../../clusters/index.js";
import { readJSONObject } from "../body.js";
import { HttpError } from "../errors.js";
import { writeJSON } from "../respond.js";
import { API_PREFIX, GROUP_VERSION } from "./group.js";
import { requireAdmin } from "./admin-only.js";

/**
 * AuditPolicy: the audit policy of one cluster. Its name is the cluster's name; its spec is the body
 * of an audit.k8s.io/v1 Policy (rules, omitStages, omitManagedFields), validated with
 * kube-apiserver's rules (a policy with no rules is refused). It replaces the global policy
 * (--audit-policy-file) for that cluster's gateway requests.
 */
export const auditPolicyKind: KindSpec = {
  kind: AUDIT_POLICY_KIND,
  plural: "auditpolicies",
  singular: "auditpolicy",
  validate(o) {
    try {
      policyFromSpec(o.spec, `auditpolicies/${o.metadata.name}`);
      return [];
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      return [`spec: ${e.detail}`];
    }
  },
};

const MAX_LIMIT = 5000;
const MAX_WAIT_SECONDS = 60;
const SOURCES: readonly AuditSource[] = ["gateway", "cluster", "gatehouse"];
const TEXT_FILTERS = [
  "cluster",
  "user",
  "group",
  "verb",
  "resource",
  "namespace",
  "name",
  "auditID",
  "stage",
] as const;

/**
 * The audit log, for administrators:
 * - GET auditevents?FILTERS&limit&continue: an audit.k8s.io/v1 EventList, oldest first, paged.
 * - GET auditevents?FILTERS&after=SEQ&waitSeconds=N: events appended after chain position SEQ, in
 *   chain order; with waitSeconds the call waits for the first new event (a pull-based stream that
 *   `gatehouse audit tail -f` repeats with metadata.resourceVersion as the next SEQ).
 * - GET auditevents?FILTERS&tail=N: the newest N matching events in chain order, with the cursor
 *   to follow from in metadata.resourceVersion.
 * - POST auditverifications: verify the hash chain of the whole store (optionally against a
 *   trusted head) and answer with the verdict in status.
 */
export function addAuditRoutes(
  router: Router,
  deps: { store: Store; maxBody: number; flush?: () => Promise<void>; sleep?: (ms: number) => Promise<void> },
): void {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  router.add("GET", `${API_PREFIX}/auditevents`, async (ctx) => {
    requireAdmin(ctx, "list", "auditevents");
    const q = ctx.url.searchParams;
    const filter = parseFilter(q);
    const limit = parseIntParam(q, "limit", 1, MAX_LIMIT) ?? 500;
    const tail = parseIntParam(q, "tail", 0, MAX_LIMIT);
    if (tail !== undefined) {
      const head = (await deps.store.audit.head()).seq;
      const items = tail === 0 ? [] : await deps.store.audit.latest(filter, tail);
      return writeJSON(ctx.res, 200, {
        kind: "EventList",
        apiVersion: AUDIT_API_VERSION,
        metadata: { resourceVersion: String(Math.max(head, items[items.length - 1]?.seq ?? -1)) },
        items: items.map((i) => i.event),
      });
    }
    const after = parseIntParam(q, "after", -1, Number.MAX_SAFE_INTEGER);
    if (after === undefined) {
      const c = q.get("continue");
      const page = await deps.store.audit.query(filter, { limit, ...(c ? { continue: c } : {}) });
      return writeJSON(ctx.res, 200, {
        kind: "EventList",
        apiVersion: AUDIT_API_VERSION,
        metadata: page.continue ? { continue: page.continue } : {},
        items: page.items.map((i) => i.event),
      });
    }
    const wait = parseIntParam(q, "waitSeconds", 0, MAX_WAIT_SECONDS) ?? 0;
    const deadline = Date.now() + wait * 1000;
    let closed = false;
    ctx.res.on("close", () => (closed = true));
    // The head is read before the scan: everything up to it was committed, so a filtered scan that
    // found nothing can move the cursor there without skipping an event.
    let scanned = (await deps.store.audit.head()).seq;
    let items = await deps.store.audit.after(filter, after, limit);
    while (items.length === 0 && Date.now() < deadline && !closed) {
      await sleep(250);
      scanned = (await deps.store.audit.head()).seq;
      items = await deps.store.audit.after(filter, after, limit);
    }
    const lastSeq = items[items.length - 1]?.seq ?? after;
    const cursor = items.length === limit ? lastSeq : Math.max(lastSeq, scanned, after);
    return writeJSON(ctx.res, 200, {
      kind: "EventList",
      apiVersion: AUDIT_API_VERSION,
      metadata: { resourceVersion: String(cursor) },
      items: items.map((i) => i.event),
    });
  });

  router.add("POST", `${API_PREFIX}/auditverifications`, async (ctx) => {
    requireAdmin(ctx, "create", "auditverifications");
    const body = await readJSONObject(ctx.req, deps.maxBody);
    const spec = (body["spec"] ?? {}) as Record<string, unknown>;
    const head = parseHead(spec["head"]);
    await deps.flush?.();
    const verdict = await verifyStoredChain(deps.store.audit, head);
    writeJSON(ctx.res, 201, {
      apiVersion: GROUP_VERSION,
      kind: "AuditVerification",
      spec: head ? { head } : {},
      status: verdict,
    });
  });
}

/** The largest EventList a cluster may send in one batch (kube-apiserver does not truncate by default). */
const MAX_EVENT_LIST_BYTES = 32 * 1024 * 1024;

/**
 * POST clusters/NAME/auditevents: a cluster's own audit webhook (see src/audit/receiver.ts for who may
 * send). Answers 200 once every event is committed, 503 when the store cannot take them (the
 * cluster retries), 404 for a cluster Gatehouse does not know.
 */
export function addClusterAuditReceiver(
  router: Router,
  deps: { clusters: ClusterRegistry; writer: AuditWriter },
): void {
  router.add("POST", `${API_PREFIX}/clusters/:name/auditevents`, async (ctx, params) => {
    const name = params["name"] ?? "";
    const user = ctx.user;
    if (!user || !maySendClusterEvents(user, name))
      throw new HttpError(
        "Forbidden",
        `only the audit webhook identity of cluster ${JSON.stringify(name)} may send its events`,
      );
    if (!(await deps.clusters.get(name)))
      throw new HttpError("NotFound", `clusters.gatehouse.io ${JSON.stringify(name)} not found`);
    const body = await readJSONObject(ctx.req, MAX_EVENT_LIST_BYTES);
    let events;
    try {
      events = parseEventList(body);
    } catch (e) {
      if (e instanceof EventListError) throw new HttpError("BadRequest", e.message);
      throw e;
    }
    try {
      await Promise.all(
        events.map((event) => deps.writer.enqueueDurable({ event, source: "cluster", cluster: name })),
      );
    } catch (e) {
      ctx.log.warn({ err: e, cluster: name }, "cluster audit events not stored; the cluster will retry");
      throw new HttpError("ServiceUnavailable", "the audit store is unavailable; retry later");
    }
    writeJSON(ctx.res, 200, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 200 });
  });
}

function parseFilter(q: URLSearchParams): AuditFilter {
  const f: AuditFilter = {};
  for (const key of TEXT_FILTERS) {
    const v = q.get(key);
    if (v !== null && v !== "") f[key] = v;
  }
  const code = parseIntParam(q, "code", 100, 599);
  if (code !== undefined) f.code = code;
  const decision = q.get("decision");
  if (decision) {
    if (decision !== "allow" && decision !== "forbid")
      throw new HttpError("BadRequest", `decision must be allow or forbid, got ${JSON.stringify(decision)}`);
    f.decision = decision;
  }
  const impact = q.get("impact");
  if (impact) {
    if (!(IMPACTS as readonly string[]).includes(impact))
      throw new HttpError(
        "BadRequest",
        `impact must be one of ${IMPACTS.join(", ")}, got ${JSON.stringify(impact)}`,
      );
    f.impact = impact;
  }
  const incomplete = q.get("incomplete");
  if (incomplete) {
    if (incomplete !== "true" && incomplete !== "false")
      throw new HttpError("BadRequest", "incomplete must be true or false");
    if (incomplete === "true") f.incomplete = true;
  }
  const source = q.get("source");
  if (source) {
    if (!(SOURCES as readonly string[]).includes(source))
      throw new HttpError("BadRequest", `source must be one of ${SOURCES.join(", ")}`);
    f.source = source as AuditSource;
  }
  for (const key of ["since", "until"] as const) {
    const v = q.get(key);
    if (!v) continue;
    const t = Date.parse(v);
    if (Number.isNaN(t) || !/^\d{4}-\d\d-\d\dT/.test(v))
      throw new HttpError("BadRequest", `${key} must be an RFC 3339 time, got ${JSON.stringify(v)}`);
    f[key] = t;
  }
  return f;
}

function parseIntParam(q: URLSearchParams, key: string, min: number, max: number): number | undefined {
  const v = q.get(key);
  if (v === null || v === "") return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw new HttpError(
      "BadRequest",
      `${key} must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`,
    );
  return n;
}

function parseHead(v: unknown): ChainHead | undefined {
  if (v === undefined) return undefined;
  const h = v as Record<string, unknown>;
  if (
    typeof v !== "object" ||
    v === null ||
    !Number.isSafeInteger(h["seq"]) ||
    typeof h["hash"] !== "string" ||
    !/^[0-9a-f]{64}$/.test(h["hash"])
  )
    throw new HttpError("BadRequest", "spec.head must be {seq: integer, hash: 64 hex digits}");
  return { seq: h["seq"] as number, hash: h["hash"] };
}
