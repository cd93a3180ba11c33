import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { LOG_FORMATS } from "./log-sink.js";
import { parseObjects, ParseError } from "../core/k8s/index.js";
import { parsePolicy } from "../core/audit/index.js";
import { AUDIT_MODES, type AuditMode } from "./recorder.js";
import { DEFAULT_AUDIT_SETTINGS, type AuditSettings } from "./index.js";
import { DEFAULT_WEBHOOK_OPTIONS } from "./webhook-sink.js";
import { loadWebhookTarget, WebhookConfigError } from "./webhook-target.js";
import { DEFAULT_UNAUTHENTICATED_LIMITS, type UnauthenticatedLimits } from "./unauthenticated.js";

type Get = (k: AuditSettingKey) => { value: unknown; from: string } | undefined;

/** The raw settings this module reads (flags, environment, config file). */
export type AuditSettingKey =
  | "auditPolicyFile"
  | "auditMode"
  | "auditQueueSize"
  | "auditMaxAge"
  | "auditMaxEvents"
  | "auditMaxSize"
  | "auditWebhookConfigFile"
  | "auditLogPath"
  | "auditLogFormat"
  | "auditLogMaxSize"
  | "auditLogMaxAge"
  | "auditLogMaxBackup"
  | "auditUnauthenticatedPerSource"
  | "auditUnauthenticatedBurst"
  | "auditUnauthenticatedGlobal"
  | "auditWriterThread";

const UNIT_MS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** Size suffixes as Kubernetes quantities write them: decimal (k, M, G, T) and binary (Ki, Mi, Gi, Ti). */
const UNIT_BYTES: Readonly<Record<string, number>> = {
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
};

/**
 * Validate the audit settings, adding every problem (with where the value came from) to `problems`.
 * The policy file is read and parsed now, so a bad policy stops the start (exit 2).
 */
export function resolveAuditSettings(get: Get, problems: string[]): AuditSettings {
  const where = (k: AuditSettingKey): string => `${k} (from ${get(k)?.from ?? "default"})`;
  const out: { -readonly [K in keyof AuditSettings]: AuditSettings[K] } = {
    ...DEFAULT_AUDIT_SETTINGS,
    retention: { ...DEFAULT_AUDIT_SETTINGS.retention },
  };

  const file = get("auditPolicyFile")?.value;
  if (file !== undefined) {
    if (typeof file !== "string" || file === "")
      problems.push(`${where("auditPolicyFile")}: expected a file path`);
    else {
      try {
        const docs = parseObjects(readFileSync(file, "utf8"), file);
        const [doc] = docs;
        if (!doc || docs.length !== 1)
          problems.push(`${where("auditPolicyFile")}: expected one audit Policy`);
        else out.policies = { global: parsePolicy(doc) };
      } catch (e) {
        if (e instanceof ParseError) problems.push(`${where("auditPolicyFile")}: ${e.message}`);
        else
          problems.push(
            `${where("auditPolicyFile")}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
          );
      }
    }
  }

  const mode = get("auditMode")?.value;
  if (mode !== undefined) {
    if (!(AUDIT_MODES as readonly unknown[]).includes(mode))
      problems.push(
        `${where("auditMode")}: expected one of ${AUDIT_MODES.join(", ")}, got ${JSON.stringify(mode)}`,
      );
    else out.mode = mode as AuditMode;
  }

  const queue = get("auditQueueSize")?.value;
  if (queue !== undefined) {
    const n = Number(queue);
    if (!Number.isInteger(n) || n < 100 || n > 1_000_000)
      problems.push(`${where("auditQueueSize")}: expected a whole number of events from 100 to 1000000`);
    else out.maxQueue = n;
  }

  const age = get("auditMaxAge")?.value;
  if (age !== undefined) {
    const m = typeof age === "string" ? /^(\d+)(s|m|h|d)$/.exec(age) : null;
    if (!m || Number(m[1]) === 0)
      problems.push(
        `${where("auditMaxAge")}: expected a duration such as 720h or 90d, got ${JSON.stringify(age)}`,
      );
    else out.retention.maxAgeMs = Number(m[1]) * (UNIT_MS[m[2] as string] ?? 0);
  }

  const max = get("auditMaxEvents")?.value;
  if (max !== undefined) {
    const n = Number(max);
    if (!Number.isSafeInteger(n) || n < 1)
      problems.push(`${where("auditMaxEvents")}: expected a whole number of events`);
    else out.retention.maxEvents = n;
  }

  const size = get("auditMaxSize")?.value;
  if (size !== undefined) {
    const m = /^(\d+)(k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(String(size));
    const n = m ? Number(m[1]) * (UNIT_BYTES[m[2] ?? ""] ?? 0) : NaN;
    if (!Number.isSafeInteger(n) || n < 1)
      problems.push(
        `${where("auditMaxSize")}: expected a size in bytes such as 20Gi, 500M or 1048576, got ${JSON.stringify(size)}`,
      );
    else out.retention.maxBytes = n;
  }
  const hook = get("auditWebhookConfigFile")?.value;
  if (hook !== undefined) {
    if (typeof hook !== "string" || hook === "")
      problems.push(`${where("auditWebhookConfigFile")}: expected a kubeconfig file path`);
    else {
      try {
        out.webhook = { target: loadWebhookTarget(hook), options: DEFAULT_WEBHOOK_OPTIONS };
      } catch (e) {
        if (!(e instanceof WebhookConfigError)) throw e;
        problems.push(`${where("auditWebhookConfigFile")}: ${e.message}`);
      }
    }
  }
  const logPath = get("auditLogPath")?.value;
  if (logPath !== undefined) {
    if (typeof logPath !== "string" || logPath === "")
      problems.push(`${where("auditLogPath")}: expected a file path`);
    else {
      const format = get("auditLogFormat")?.value ?? "json";
      if (!(LOG_FORMATS as readonly unknown[]).includes(format))
        problems.push(`${where("auditLogFormat")}: expected json or legacy, got ${JSON.stringify(format)}`);
      const whole = (k: AuditSettingKey, dflt: number): number => {
        const v = get(k)?.value;
        if (v === undefined) return dflt;
        const n = Number(v);
        if (!Number.isSafeInteger(n) || n < 0) {
          problems.push(`${where(k)}: expected a whole number, at least 0`);
          return dflt;
        }
        return n;
      };
      out.logFile = {
        path: resolve(logPath),
        format: format === "legacy" ? "legacy" : "json",
        maxSizeBytes: whole("auditLogMaxSize", 100) * 1024 * 1024,
        maxAgeMs: whole("auditLogMaxAge", 0) * 86_400_000,
        maxBackups: whole("auditLogMaxBackup", 0),
      };
    }
  }
  const thread = get("auditWriterThread")?.value;
  if (thread !== undefined) {
    if (thread === true || thread === "true") out.writerThread = true;
    else if (thread === false || thread === "false") out.writerThread = false;
    else
      problems.push(`${where("auditWriterThread")}: expected true or false, got ${JSON.stringify(thread)}`);
  }
  const guard = unauthenticatedLimits(get, where, problems);
  if (guard) out.unauthenticated = guard;
  return out;
}

/** The flood guard's limits for failed-authentication events, when any is set (unauthenticated.ts). */
function unauthenticatedLimits(
  get: Get,
  where: (k: AuditSettingKey) => string,
  problems: string[],
): UnauthenticatedLimits | undefined {
  const keys = {
    perSourcePerMinute: "auditUnauthenticatedPerSource",
    perSourceBurst: "auditUnauthenticatedBurst",
    globalPerSecond: "auditUnauthenticatedGlobal",
  } as const;
  if (Object.values(keys).every((k) => get(k) === undefined)) return undefined;
  const out: UnauthenticatedLimits = { ...DEFAULT_UNAUTHENTICATED_LIMITS };
  for (const [field, key] of Object.entries(keys) as [keyof typeof keys, AuditSettingKey][]) {
    const v = get(key)?.value;
    if (v === undefined) continue;
    const n = Number(v);
    if (v === "" || !Number.isSafeInteger(n) || n < 1 || n > 1_000_000)
      problems.push(
        `${where(key)}: expected a whole number of events from 1 to 1000000, got ${JSON.stringify(v)}`,
      );
    else out[field] = n;
  }
  return out;
}
