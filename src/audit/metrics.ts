import { Counter, Gauge, Histogram, type Registry } from "prom-client";

export interface AuditMetrics {
  stored: Counter;
  dropped: Counter<"reason">;
  failedCommits: Counter;
  queued: Gauge;
  commitSeconds: Histogram;
  batchSize: Histogram;
  sinkSent: Counter<"sink">;
  sinkDropped: Counter<"sink" | "reason">;
  sinkFailures: Counter<"sink">;
  unauthenticated: Counter<"outcome">;
}

/** The audit pipeline's metrics, registered on the server's registry. */
export function createAuditMetrics(registry: Registry): AuditMetrics {
  return {
    stored: new Counter({
      name: "gatehouse_audit_events_stored_total",
      help: "Audit events committed to the Gatehouse store",
      registers: [registry],
    }),
    dropped: new Counter({
      name: "gatehouse_audit_events_dropped_total",
      help: "Audit events dropped, by reason (queue_full: the bounded queue overflowed; too_large: over the event size limit)",
      labelNames: ["reason"],
      registers: [registry],
    }),
    failedCommits: new Counter({
      name: "gatehouse_audit_commit_failures_total",
      help: "Batches the store refused (retried with backoff)",
      registers: [registry],
    }),
    queued: new Gauge({
      name: "gatehouse_audit_queue_events",
      help: "Audit events waiting to be committed",
      registers: [registry],
    }),
    commitSeconds: new Histogram({
      name: "gatehouse_audit_commit_duration_seconds",
      help: "Time to hash-chain and commit one batch (group commit)",
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: "gatehouse_audit_batch_events",
      help: "Events per committed batch",
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000],
      registers: [registry],
    }),
    sinkSent: new Counter({
      name: "gatehouse_audit_sink_events_sent_total",
      help: "Audit events a sink (webhook, log file) accepted",
      labelNames: ["sink"],
      registers: [registry],
    }),
    sinkDropped: new Counter({
      name: "gatehouse_audit_sink_events_dropped_total",
      help: "Audit events a sink dropped, by reason (queue_full, too_large, shutdown)",
      labelNames: ["sink", "reason"],
      registers: [registry],
    }),
    sinkFailures: new Counter({
      name: "gatehouse_audit_sink_failures_total",
      help: "Batches a sink failed to deliver (retried with backoff)",
      labelNames: ["sink"],
      registers: [registry],
    }),
    unauthenticated: new Counter({
      name: "gatehouse_audit_unauthenticated_requests_total",
      help: "Requests that failed authentication (401), by outcome: recorded as an audit event, or suppressed by the per-source-IP or global flood guard",
      labelNames: ["outcome"],
      registers: [registry],
    }),
  };
}
