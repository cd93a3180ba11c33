import type { Logger } from "pino";
import { truncateEvent, type Event } from "../core/audit/index.js";
import type { AuditSource } from "../store/index.js";
import type { AuditMetrics } from "./metrics.js";
import type { AuditWriter } from "./writer.js";

/**
 * kube-apiserver's audit modes (--audit-*-mode): `batch` queues events and never holds a request;
 * `blocking` holds each request until its event is committed, logging a failure; `blocking-strict`
 * also fails the request when its RequestReceived event cannot be committed, so nothing reaches a
 * cluster unrecorded.
 */
export const AUDIT_MODES = ["batch", "blocking", "blocking-strict"] as const;
export type AuditMode = (typeof AUDIT_MODES)[number];

/** The mode and size limit of the audit pipeline, validated at start. */
export interface RecorderOptions {
  mode: AuditMode;
  /** Events with bodies over this many bytes of JSON lose the bodies (audit.k8s.io/truncated). */
  maxEventBytes: number;
}

/** Hands finished events to the writer according to the mode. */
export class AuditRecorder {
  private failing = false;

  constructor(
    private readonly writer: AuditWriter,
    readonly options: RecorderOptions,
    private readonly log: Logger,
    private readonly metrics: AuditMetrics,
  ) {}

  /**
   * Record one event. Resolves at once in batch mode, once committed in the blocking modes. Rejects
   * only in blocking-strict mode for a RequestReceived event that could not be committed.
   */
  async record(event: Event, source: AuditSource, cluster: string): Promise<void> {
    let e = event;
    if (e.requestObject !== undefined || e.responseObject !== undefined) {
      const t = truncateEvent(e, this.options.maxEventBytes);
      if (t.kind === "dropped") {
        this.metrics.dropped.inc({ reason: "too_large" });
        return;
      }
      e = t.event;
    }
    const item = { event: e, source, cluster };
    if (this.options.mode === "batch") {
      this.writer.enqueue(item);
      return;
    }
    try {
      await this.writer.enqueueDurable(item);
      this.failing = false;
    } catch (err) {
      if (this.options.mode === "blocking-strict" && e.stage === "RequestReceived") throw err;
      if (!this.failing) {
        this.failing = true;
        this.log.error({ err }, "audit: event not committed; the request goes on (mode blocking)");
      }
    }
  }
}
