import { ParseError, type KubeObject, type UserInfo } from "../core/k8s/index.js";
import { parseEvent, type Event } from "../core/audit/index.js";

/**
 * Clusters send their own audit events to Gatehouse with kube-apiserver's webhook backend
 * (--audit-webhook-config-file), one EventList per batch. Security design:
 *
 * - The sender authenticates like any caller (the webhook kubeconfig carries a bearer token: an
 *   access key). Only an identity made for this job may send: a user in the group
 *   `gatehouse:audit-webhooks` whose access key is scoped to exactly one cluster, the one named in
 *   the path. A key leaked from one cluster can therefore only add events for that cluster, and
 *   no ordinary user or administrator key can forge a cluster's audit trail.
 * - Events are stored exactly as received (the hash chain covers them), tagged with the cluster
 *   and the source "cluster"; the Audit-ID the gateway sent links them to the gateway's events.
 * - Gatehouse answers 2xx only once the batch is committed, so the cluster's webhook retries
 *   (with its own backoff) whatever Gatehouse could not store.
 */
export const AUDIT_WEBHOOK_GROUP = "gatehouse:audit-webhooks";

/** Whether this caller may send audit events for this cluster. */
export function maySendClusterEvents(user: UserInfo, cluster: string): boolean {
  const scope = user.extra?.["gatehouse.io/clusters"];
  return user.groups.includes(AUDIT_WEBHOOK_GROUP) && scope?.length === 1 && scope[0] === cluster;
}

export class EventListError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EventListError";
  }
}

/** Read the events of an audit.k8s.io/v1 EventList body; anything else is an EventListError. */
export function parseEventList(body: Record<string, unknown>): Event[] {
  if (body["kind"] !== "EventList" || body["apiVersion"] !== "audit.k8s.io/v1")
    throw new EventListError("expected apiVersion audit.k8s.io/v1, kind EventList");
  const items = body["items"];
  if (!Array.isArray(items)) throw new EventListError("items: expected a list of events");
  return items.map((item: unknown, i) => {
    if (typeof item !== "object" || item === null || Array.isArray(item))
      throw new EventListError(`items[${i}]: expected an event`);
    // kube-apiserver's EventList items carry no kind or apiVersion of their own: the list's apply.
    const o = item as KubeObject;
    const object: KubeObject = {
      ...o,
      kind: o.kind ?? "Event",
      apiVersion: o.apiVersion ?? "audit.k8s.io/v1",
    };
    try {
      return parseEvent({ object, source: { file: "request", document: i + 1 } });
    } catch (e) {
      if (e instanceof ParseError) throw new EventListError(`items[${i}]: ${e.message}`);
      throw e;
    }
  });
}
