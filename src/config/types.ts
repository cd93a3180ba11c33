import type { KeySource } from "../secrets/index.js";
import type { DatabaseLocation } from "../store/index.js";

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
};
