import type { Logger } from "pino";
import type { Registry } from "prom-client";
import {
  DEFAULT_MAX_EVENT_SIZE,
  renderGatehouseEvent,
  type GatehouseEvent,
  type GatehouseEventContext,
  type PolicySet,
} from "../core/audit/index.js";
import type { CommittedAuditEvent, Store } from "../store/index.js";
import { createAuditMetrics, type AuditMetrics } from "./metrics.js";
import { AuditRecorder, type AuditMode } from "./recorder.js";
import { startRetention, type RetentionOptions } from "./retention.js";
import { AuditWriter } from "./writer.js";
import { WebhookSink, type WebhookSinkOptions } from "./webhook-sink.js";
import type { WebhookTarget } from "./webhook-target.js";
import { LogFileSink, type LogSinkOptions } from "./log-sink.js";
import { ClusterPolicies } from "./cluster-policies.js";
import { UnauthenticatedLimiter, type UnauthenticatedLimits } from "./unauthenticated.js";

export { AUDIT_MODES, AuditRecorder, type AuditMode } from "./recorder.js";
export { AuditWriter, AuditUnavailableError } from "./writer.js";
export { createAuditMetrics, type AuditMetrics } from "./metrics.js";
export { verifyStoredChain, type StoredChainVerdict } from "./verify.js";
export { WebhookSink, DEFAULT_WEBHOOK_OPTIONS, type WebhookSinkOptions } from "./webhook-sink.js";
export { loadWebhookTarget, WebhookConfigError, type WebhookTarget } from "./webhook-target.js";
export { LogFileSink, legacyLine, LOG_FORMATS, type LogSinkOptions } from "./log-sink.js";
export { ClusterPolicies, AUDIT_POLICY_KIND, policyFromSpec } from "./cluster-policies.js";
export {
  UnauthenticatedLimiter,
  DEFAULT_UNAUTHENTICATED_LIMITS,
  type UnauthenticatedLimits,
} from "./unauthenticated.js";

/** The audit pipeline's settings, validated at start. */
export interface AuditSettings {
  mode: AuditMode;
  policies: PolicySet;
  /** Events held in memory at most (every mode, every sink down). */
  maxQueue: number;
  /** Events per group commit at most. */
  maxBatch: number;
  maxEventBytes: number;
  retention: RetentionOptions;
  /** An audit webhook the committed events are also sent to (--audit-webhook-config-file). */
  webhook?: { target: WebhookTarget; options: WebhookSinkOptions };
  /** A log file the committed events are also written to (--audit-log-path). */
  logFile?: LogSinkOptions;
  /** How many failed-authentication events are recorded per source IP and in all (flood guard). */
  unauthenticated?: UnauthenticatedLimits;
  /**
   * On a SQLite file, run the audit INSERTs on a writer thread with its own connection (the
   * default; src/store/audit-worker.ts). Off, everything runs on the main thread, which is faster
   * when other work keeps both cores busy (bench/RESULTS.md). PostgreSQL has no thread either way.
   */
  writerThread: boolean;
}

/** Replicas see each other's AuditPolicy changes within this interval. */
const POLICY_REFRESH_MS = 5000;

/** In batch mode, events wait this long for company before a commit (see writer.ts). */
const BATCH_LINGER_MS = 10;

export const DEFAULT_AUDIT_SETTINGS: AuditSettings = Object.freeze({
  mode: "batch",
  policies: {},
  maxQueue: 10_000,
  maxBatch: 1000,
  maxEventBytes: DEFAULT_MAX_EVENT_SIZE,
  retention: { intervalMs: 60_000 },
  writerThread: true,
}) as AuditSettings;

export interface AuditPipeline {
  settings: AuditSettings;
  recorder: AuditRecorder;
  writer: AuditWriter;
  metrics: AuditMetrics;
  webhook: WebhookSink | undefined;
  /** The global policy and the per-cluster AuditPolicy objects, as the audit filter evaluates them. */
  clusterPolicies: ClusterPolicies;
  /** The flood guard of failed-authentication (401) events. */
  unauthenticated: UnauthenticatedLimiter;
  /**
   * Record one of Gatehouse's own actions that no audited request carries (logins, token issue and
   * revocation): rendered by the core, stored beside the Kubernetes events with source "gatehouse".
   */
  recordGatehouseEvent(e: GatehouseEvent, ctx: GatehouseEventContext): Promise<void>;
  /** Resolve when every event recorded so far is committed. */
  flush(): Promise<void>;
  /** Apply retention now (it also runs on a timer). */
  applyRetention(): Promise<number>;
  close(): Promise<void>;
}

/** Start the writer, recorder and retention over the Gatehouse store. */
export function startAuditPipeline(
  store: Store,
  settings: AuditSettings,
  fx: { log: Logger; now: () => number; registry: Registry },
): AuditPipeline {
  const metrics = createAuditMetrics(fx.registry);
  const log = fx.log.child({ component: "audit" });
  const webhook = settings.webhook
    ? new WebhookSink("webhook", settings.webhook.target, settings.webhook.options, log, metrics)
    : undefined;
  const logFile = settings.logFile ? new LogFileSink(settings.logFile, log, metrics, fx.now) : undefined;
  const writer = new AuditWriter(store.audit, {
    maxQueue: settings.maxQueue,
    maxBatch: settings.maxBatch,
    lingerMs: settings.mode === "batch" ? BATCH_LINGER_MS : 0,
    log,
    metrics,
    ...(webhook || logFile
      ? {
          onCommitted: (committed: CommittedAuditEvent[]) => {
            logFile?.write(
              committed.map((c) => c.event),
              committed.map((c) => c.json),
            );
            webhook?.enqueue(committed.map((c) => c.event));
          },
        }
      : {}),
  });
  const recorder = new AuditRecorder(
    writer,
    { mode: settings.mode, maxEventBytes: settings.maxEventBytes },
    log,
    metrics,
  );
  const retention = startRetention(store.audit, settings.retention, { log, now: fx.now });
  const clusterPolicies = new ClusterPolicies(store, settings.policies.global, log);
  void clusterPolicies.start(POLICY_REFRESH_MS);
  const unauthenticated = new UnauthenticatedLimiter(settings.unauthenticated, fx.now, metrics, log);
  return {
    settings,
    recorder,
    writer,
    metrics,
    webhook,
    clusterPolicies,
    unauthenticated,
    recordGatehouseEvent: (e, ctx) => recorder.record(renderGatehouseEvent(e, ctx), "gatehouse", ""),
    flush: () => writer.flush(),
    applyRetention: () => retention.runOnce(),
    close: async () => {
      clusterPolicies.stop();
      await retention.stop();
      await writer.close();
      await webhook?.close();
      logFile?.close();
    },
  };
}
export { resolveAuditSettings, type AuditSettingKey } from "./settings.js";
