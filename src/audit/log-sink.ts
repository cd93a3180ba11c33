import {
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { basename, dirname, extname, join } from "node:path";
import type { Logger } from "pino";
import type { Event } from "../core/audit/index.js";
import type { AuditMetrics } from "./metrics.js";

/** kube-apiserver's --audit-log-* flags. */
export interface LogSinkOptions {
  path: string;
  /** --audit-log-format: one JSON event per line, or the one-line legacy text. */
  format: "json" | "legacy";
  /** --audit-log-maxsize, in bytes here (the flag is in megabytes); 0: never rotate. */
  maxSizeBytes: number;
  /** --audit-log-maxage: delete rotated files older than this; 0: keep. */
  maxAgeMs: number;
  /** --audit-log-maxbackup: keep at most this many rotated files; 0: keep all. */
  maxBackups: number;
}

export const LOG_FORMATS = ["json", "legacy"] as const;

/**
 * Append committed events to a file, rotated like kube-apiserver's log backend (lumberjack): when a
 * write would pass maxsize, the file is renamed NAME-YYYY-MM-DDTHH-MM-SS.mmm.EXT (UTC) and a new one
 * started; rotated files beyond maxbackup or older than maxage are deleted. Writes are synchronous,
 * one per committed batch, after the store has it.
 */
export class LogFileSink {
  private fd: number | undefined;
  private size = 0;
  private failing = false;

  constructor(
    private readonly opts: LogSinkOptions,
    private readonly log: Logger,
    private readonly metrics: AuditMetrics,
    private readonly now: () => number,
  ) {}

  /** Append events; `json`, when given, is each event as the store holds it (written as is). */
  write(events: readonly Event[], json?: readonly string[]): void {
    try {
      const text = events
        .map(
          (e, i) => (this.opts.format === "json" ? (json?.[i] ?? JSON.stringify(e)) : legacyLine(e)) + "\n",
        )
        .join("");
      const bytes = Buffer.from(text);
      this.open();
      if (this.opts.maxSizeBytes > 0 && this.size > 0 && this.size + bytes.length > this.opts.maxSizeBytes)
        this.rotate();
      writeSync(this.fd as number, bytes);
      this.size += bytes.length;
      this.metrics.sinkSent.inc({ sink: "log" }, events.length);
      this.failing = false;
    } catch (e) {
      this.metrics.sinkDropped.inc({ sink: "log", reason: "write_failed" }, events.length);
      if (!this.failing) {
        this.failing = true;
        this.log.error({ err: e, path: this.opts.path }, "audit log file: cannot write; events dropped");
      }
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private open(): void {
    if (this.fd !== undefined) return;
    mkdirSync(dirname(this.opts.path), { recursive: true });
    this.fd = openSync(this.opts.path, "a", 0o600);
    this.size = fstatSync(this.fd).size;
  }

  private rotate(): void {
    this.close();
    const p = this.opts.path;
    const ext = extname(p);
    const stamp = new Date(this.now()).toISOString().replace(/:/g, "-").replace(/Z$/, "");
    renameSync(p, join(dirname(p), `${basename(p, ext)}-${stamp}${ext}`));
    this.open();
    this.cleanup();
  }

  private cleanup(): void {
    const p = this.opts.path;
    const ext = extname(p);
    const prefix = `${basename(p, ext)}-`;
    const dir = dirname(p);
    const backups = readdirSync(dir)
      .filter(
        (f) =>
          f.startsWith(prefix) &&
          f.endsWith(ext) &&
          /^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}$/.test(f.slice(prefix.length, f.length - ext.length)),
      )
      .sort()
      .reverse();
    backups.forEach((f, i) => {
      const full = join(dir, f);
      const tooMany = this.opts.maxBackups > 0 && i >= this.opts.maxBackups;
      const tooOld = this.opts.maxAgeMs > 0 && statSync(full).mtimeMs < this.now() - this.opts.maxAgeMs;
      if (tooMany || tooOld) unlinkSync(full);
    });
  }
}

/** kube-apiserver's legacy line (k8s.io/apiserver/pkg/audit/format.go EventString). */
export function legacyLine(e: Event): string {
  const q = (s: string): string => JSON.stringify(s);
  const list = (l: readonly string[]): string => l.map(q).join(",");
  const user = e.user.username ? e.user.username : "<none>";
  const groups = e.user.username && (e.user.groups?.length ?? 0) > 0 ? list(e.user.groups ?? []) : "<none>";
  const as = e.impersonatedUser ? (e.impersonatedUser.username ?? "") : "<self>";
  const asGroups = e.impersonatedUser?.groups ? list(e.impersonatedUser.groups) : "<lookup>";
  const ns = e.objectRef?.namespace ? e.objectRef.namespace : "<none>";
  const response = e.responseStatus ? String(e.responseStatus.code) : "<deferred>";
  const ip = e.sourceIPs?.[0] ?? "<unknown>";
  return (
    `${rfc3339Nano(e.requestReceivedTimestamp)} AUDIT: id=${q(e.auditID)} stage=${q(e.stage)} ip=${q(ip)} ` +
    `method=${q(e.verb)} user=${q(user)} groups=${q(groups)} as=${q(as)} asgroups=${q(asGroups)} ` +
    `user-agent=${q(e.userAgent ?? "")} namespace=${q(ns)} uri=${q(e.requestURI)} response="${response}"`
  );
}

/** Go's time.RFC3339Nano: fractional seconds without trailing zeros. */
function rfc3339Nano(t: string): string {
  return t.replace(/\.(\d*?)0*Z$/, (_m, d: string) => (d === "" ? "Z" : `.${d}Z`));
}
