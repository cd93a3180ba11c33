import type { KeySource } from "../secrets/index.js";
import type { DatabaseLocation } from "../store/index.js";
import type { AuditSettings } from "../audit/index.js";
import type { TokenSettings } from "../identity/issuer/settings.js";

export type LogLevel = "trace" | "debug" | "info" | "warn" | "error" | "fatal" | "silent";

/** Validated, frozen server configuration. Code downstream receives only this. */
export interface ServerConfig {
  readonly listen: { readonly host: string; readonly port: number };
  readonly dataDir: string;
  readonly database: DatabaseLocation;
  /** Certificates from files, or a self-signed one generated and kept in the data directory. */
  readonly tls:
    | { readonly kind: "files"; readonly certFile: string; readonly keyFile: string }
    | { readonly kind: "selfSigned" };
  readonly logLevel: LogLevel;
  /** Largest request body the management API accepts, in bytes. */
  readonly maxRequestBodyBytes: number;
  /** The keys that encrypt stored secrets (cluster credentials); see src/secrets. */
  readonly encryptionKeys: KeySource;
  /** The audit pipeline: policy, mode, queue bound, retention (src/audit). */
  readonly audit: AuditSettings;
  /** Gatehouse as token issuer: issuer URL and token lifetimes (src/identity/issuer). */
  readonly tokens: TokenSettings;
  /** IdentityProvider objects applied at start: a YAML file or a directory of them (src/identity/providers). */
  readonly identityProvidersFile?: string;
}

/** The raw settings as read from one source (flags, environment or file), before validation. */
export interface RawSettings {
  listen?: unknown;
  dataDir?: unknown;
  database?: unknown;
  tlsCertFile?: unknown;
  tlsKeyFile?: unknown;
  logLevel?: unknown;
  maxRequestBodyBytes?: unknown;
  encryptionKeyFile?: unknown;
  /** Inline keys: environment only (a config file or a flag would put keys in files and process lists). */
  encryptionKeys?: unknown;
  auditPolicyFile?: unknown;
  auditMode?: unknown;
  auditQueueSize?: unknown;
  auditMaxAge?: unknown;
  auditMaxEvents?: unknown;
  auditMaxSize?: unknown;
  auditWebhookConfigFile?: unknown;
  auditLogPath?: unknown;
  auditLogFormat?: unknown;
  auditLogMaxSize?: unknown;
  auditLogMaxAge?: unknown;
  auditLogMaxBackup?: unknown;
  auditUnauthenticatedPerSource?: unknown;
  auditUnauthenticatedBurst?: unknown;
  auditUnauthenticatedGlobal?: unknown;
  auditWriterThread?: unknown;
  issuerUrl?: unknown;
  accessTokenTtl?: unknown;
  refreshTokenIdleTtl?: unknown;
  sessionMaxAge?: unknown;
  identityProvidersFile?: unknown;
}

export const DEFAULTS = {
  listen: "127.0.0.1:8443",
  dataDir: "./.gatehouse",
  logLevel: "info",
  maxRequestBodyBytes: 3 * 1024 * 1024,
} as const;

/** Environment variables, one per setting. */
export const ENV: Readonly<Record<keyof RawSettings, string>> = {
  listen: "GATEHOUSE_LISTEN",
  dataDir: "GATEHOUSE_DATA_DIR",
  database: "GATEHOUSE_DATABASE",
  tlsCertFile: "GATEHOUSE_TLS_CERT_FILE",
  tlsKeyFile: "GATEHOUSE_TLS_KEY_FILE",
  logLevel: "GATEHOUSE_LOG_LEVEL",
  maxRequestBodyBytes: "GATEHOUSE_MAX_REQUEST_BODY_BYTES",
  encryptionKeyFile: "GATEHOUSE_ENCRYPTION_KEY_FILE",
  encryptionKeys: "GATEHOUSE_ENCRYPTION_KEYS",
  auditPolicyFile: "GATEHOUSE_AUDIT_POLICY_FILE",
  auditMode: "GATEHOUSE_AUDIT_MODE",
  auditQueueSize: "GATEHOUSE_AUDIT_QUEUE_SIZE",
  auditMaxAge: "GATEHOUSE_AUDIT_MAX_AGE",
  auditMaxEvents: "GATEHOUSE_AUDIT_MAX_EVENTS",
  auditMaxSize: "GATEHOUSE_AUDIT_MAX_SIZE",
  auditWebhookConfigFile: "GATEHOUSE_AUDIT_WEBHOOK_CONFIG_FILE",
  auditLogPath: "GATEHOUSE_AUDIT_LOG_PATH",
  auditLogFormat: "GATEHOUSE_AUDIT_LOG_FORMAT",
  auditLogMaxSize: "GATEHOUSE_AUDIT_LOG_MAXSIZE",
  auditLogMaxAge: "GATEHOUSE_AUDIT_LOG_MAXAGE",
  auditLogMaxBackup: "GATEHOUSE_AUDIT_LOG_MAXBACKUP",
  auditUnauthenticatedPerSource: "GATEHOUSE_AUDIT_UNAUTHENTICATED_PER_SOURCE",
  auditUnauthenticatedBurst: "GATEHOUSE_AUDIT_UNAUTHENTICATED_BURST",
  auditUnauthenticatedGlobal: "GATEHOUSE_AUDIT_UNAUTHENTICATED_GLOBAL",
  auditWriterThread: "GATEHOUSE_AUDIT_WRITER_THREAD",
  issuerUrl: "GATEHOUSE_ISSUER_URL",
  accessTokenTtl: "GATEHOUSE_ACCESS_TOKEN_TTL",
  refreshTokenIdleTtl: "GATEHOUSE_REFRESH_TOKEN_IDLE_TTL",
  sessionMaxAge: "GATEHOUSE_SESSION_MAX_AGE",
  identityProvidersFile: "GATEHOUSE_IDENTITY_PROVIDERS_FILE",
};
