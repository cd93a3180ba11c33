import { join, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { readKeys, SecretsError, type KeySource } from "../secrets/index.js";
import { parseDatabaseUrl } from "../store/index.js";
import { resolveAuditSettings } from "../audit/index.js";
import { resolveTokenSettings } from "../identity/issuer/settings.js";
import { DEFAULTS, ENV, type LogLevel, type RawSettings, type ServerConfig } from "./types.js";

/** Every problem found in the configuration, each with where it came from. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join("; "));
    this.name = "ConfigError";
  }
}

const FILE_KEYS: Readonly<Record<string, keyof RawSettings>> = {
  listen: "listen",
  dataDir: "dataDir",
  database: "database",
  logLevel: "logLevel",
  maxRequestBodyBytes: "maxRequestBodyBytes",
  encryptionKeyFile: "encryptionKeyFile",
  auditPolicyFile: "auditPolicyFile",
  auditMode: "auditMode",
  auditQueueSize: "auditQueueSize",
  auditMaxAge: "auditMaxAge",
  auditMaxEvents: "auditMaxEvents",
  auditMaxSize: "auditMaxSize",
  auditWebhookConfigFile: "auditWebhookConfigFile",
  auditLogPath: "auditLogPath",
  auditLogFormat: "auditLogFormat",
  auditLogMaxSize: "auditLogMaxSize",
  auditLogMaxAge: "auditLogMaxAge",
  auditLogMaxBackup: "auditLogMaxBackup",
  auditUnauthenticatedPerSource: "auditUnauthenticatedPerSource",
  auditUnauthenticatedBurst: "auditUnauthenticatedBurst",
  auditUnauthenticatedGlobal: "auditUnauthenticatedGlobal",
  auditWriterThread: "auditWriterThread",
  issuerUrl: "issuerUrl",
  accessTokenTtl: "accessTokenTtl",
  refreshTokenIdleTtl: "refreshTokenIdleTtl",
  sessionMaxAge: "sessionMaxAge",
  identityProvidersFile: "identityProvidersFile",
};

/**
 * Parse a YAML config file's text into raw settings. Shape:
 *   apiVersion: gatehouse.io/v1alpha1
 *   kind: ServerConfig
 *   listen: 127.0.0.1:8443
 *   dataDir: ./.gatehouse
 *   database: sqlite:./.gatehouse/gatehouse.db
 *   tls: { certFile: ..., keyFile: ... }
 *   logLevel: info
 * Unknown keys are errors: a typo must not silently fall back to a default.
 */
export function parseConfigFile(text: string, file: string): RawSettings {
  let doc: unknown;
  try {
    doc = parseYaml(text, { uniqueKeys: true });
  } catch (e) {
    throw new ConfigError([`${file}: not valid YAML: ${(e as Error).message.split("\n")[0]}`]);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== "object" || Array.isArray(doc)) throw new ConfigError([`${file}: expected a mapping`]);
  const problems: string[] = [];
  const raw: RawSettings = {};
  for (const [k, v] of Object.entries(doc as Record<string, unknown>)) {
    if (k === "apiVersion") {
      if (v !== "gatehouse.io/v1alpha1") problems.push(`${file}: apiVersion: must be gatehouse.io/v1alpha1`);
    } else if (k === "kind") {
      if (v !== "ServerConfig") problems.push(`${file}: kind: must be ServerConfig`);
    } else if (k === "tls") {
      if (typeof v !== "object" || v === null) {
        problems.push(`${file}: tls: expected a mapping with certFile and keyFile`);
        continue;
      }
      for (const [tk, tv] of Object.entries(v as Record<string, unknown>)) {
        if (tk === "certFile") raw.tlsCertFile = tv;
        else if (tk === "keyFile") raw.tlsKeyFile = tv;
        else problems.push(`${file}: tls.${tk}: unknown field`);
      }
    } else if (FILE_KEYS[k]) {
      raw[FILE_KEYS[k]] = v;
    } else {
      problems.push(`${file}: ${k}: unknown field`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return raw;
}

/** Raw settings from the environment. */
export function settingsFromEnv(env: NodeJS.ProcessEnv): RawSettings {
  const raw: RawSettings = {};
  for (const [key, name] of Object.entries(ENV) as [keyof RawSettings, string][]) {
    const v = env[name];
    if (v !== undefined && v !== "") raw[key] = v;
  }
  return raw;
}

/**
 * Merge sources (later wins: file, then environment, then flags), normalise, validate every field,
 * and freeze. Throws ConfigError listing every problem at once.
 */
export function resolveConfig(sources: readonly { name: string; settings: RawSettings }[]): ServerConfig {
  const merged: Record<string, { value: unknown; from: string }> = {};
  for (const s of sources) {
    for (const [k, v] of Object.entries(s.settings))
      if (v !== undefined) merged[k] = { value: v, from: s.name };
  }
  const problems: string[] = [];
  const get = (k: keyof RawSettings): { value: unknown; from: string } | undefined => merged[k];
  const where = (k: keyof RawSettings): string => `${k} (from ${get(k)?.from ?? "default"})`;

  const listenRaw = String(get("listen")?.value ?? DEFAULTS.listen);
  const listen = parseListen(listenRaw);
  if (!listen)
    problems.push(
      `${where("listen")}: expected HOST:PORT with a port from 0 to 65535, got ${JSON.stringify(listenRaw)}`,
    );

  const dataDirRaw = get("dataDir")?.value ?? DEFAULTS.dataDir;
  if (typeof dataDirRaw !== "string" || dataDirRaw === "")
    problems.push(`${where("dataDir")}: expected a directory path`);
  const dataDir = resolve(String(dataDirRaw));

  const dbRaw = get("database")?.value ?? `sqlite:${join(dataDir, "gatehouse.db")}`;
  let database: ServerConfig["database"] | undefined;
  try {
    database = parseDatabaseUrl(String(dbRaw));
  } catch (e) {
    problems.push(`${where("database")}: ${(e as Error).message.replace(/^database: /, "")}`);
  }

  const cert = get("tlsCertFile")?.value;
  const key = get("tlsKeyFile")?.value;
  let tls: ServerConfig["tls"] = { kind: "selfSigned" };
  if (cert !== undefined || key !== undefined) {
    if (typeof cert !== "string" || typeof key !== "string" || cert === "" || key === "") {
      problems.push(
        "tls: give both a certificate file and a key file (--tls-cert-file and --tls-key-file), or neither",
      );
    } else tls = { kind: "files", certFile: resolve(cert), keyFile: resolve(key) };
  }

  const levels: readonly LogLevel[] = ["trace", "debug", "info", "warn", "error", "fatal", "silent"];
  const logLevel = String(get("logLevel")?.value ?? DEFAULTS.logLevel);
  if (!(levels as readonly string[]).includes(logLevel))
    problems.push(
      `${where("logLevel")}: expected one of ${levels.join(", ")}, got ${JSON.stringify(logLevel)}`,
    );

  const bodyRaw = get("maxRequestBodyBytes")?.value ?? DEFAULTS.maxRequestBodyBytes;
  const maxRequestBodyBytes = Number(bodyRaw);
  if (!Number.isInteger(maxRequestBodyBytes) || maxRequestBodyBytes < 1024)
    problems.push(`${where("maxRequestBodyBytes")}: expected a whole number of bytes, at least 1024`);

  const encryptionKeys = resolveKeySource(get("encryptionKeyFile"), get("encryptionKeys"), dataDir, problems);
  const audit = resolveAuditSettings(get, problems);
  const tokens = resolveTokenSettings(get, problems);
  const idpRaw = get("identityProvidersFile")?.value;
  if (idpRaw !== undefined && (typeof idpRaw !== "string" || idpRaw === ""))
    problems.push(`${where("identityProvidersFile")}: expected a YAML file or a directory of them`);
  const identityProvidersFile = typeof idpRaw === "string" && idpRaw !== "" ? resolve(idpRaw) : undefined;

  if (problems.length > 0 || !listen || !database) throw new ConfigError(problems);
  return deepFreeze({
    listen,
    dataDir,
    database,
    tls,
    logLevel: logLevel as LogLevel,
    maxRequestBodyBytes,
    encryptionKeys,
    audit,
    tokens,
    ...(identityProvidersFile !== undefined ? { identityProvidersFile } : {}),
  });
}

/**
 * A key file, inline keys from the environment, or the generated default. Given keys are read and
 * checked now, so a bad key is a configuration error (exit 2) before anything starts.
 */
function resolveKeySource(
  file: { value: unknown; from: string } | undefined,
  inline: { value: unknown; from: string } | undefined,
  dataDir: string,
  problems: string[],
): KeySource {
  const fallback: KeySource = { kind: "generated", path: join(dataDir, "encryption.keys") };
  if (file !== undefined && inline !== undefined) {
    problems.push(
      `encryption keys: give either encryptionKeyFile (from ${file.from}) or ${ENV.encryptionKeys} (from ${inline.from}), not both`,
    );
    return fallback;
  }
  let source: KeySource;
  if (file !== undefined) {
    if (typeof file.value !== "string" || file.value === "") {
      problems.push(`encryptionKeyFile (from ${file.from}): expected a file path`);
      return fallback;
    }
    source = { kind: "file", path: resolve(file.value) };
  } else if (inline !== undefined) {
    if (typeof inline.value !== "string") {
      problems.push(
        `${ENV.encryptionKeys} (from ${inline.from}): expected ID:BASE64 entries separated by ';'`,
      );
      return fallback;
    }
    source = { kind: "environment", text: inline.value };
  } else return fallback;
  try {
    readKeys(source);
  } catch (e) {
    if (!(e instanceof SecretsError)) throw e;
    // Messages already say where: FILE:LINE, or GATEHOUSE_ENCRYPTION_KEYS entry N.
    problems.push(
      source.kind === "file" ? `encryptionKeyFile (from ${file?.from}): ${e.message}` : e.message,
    );
  }
  return source;
}

/** "HOST:PORT", "[::1]:PORT" or ":PORT" (all interfaces). */
export function parseListen(s: string): { host: string; port: number } | undefined {
  const m = s.match(/^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  const host = m[1] ?? (m[2] === "" ? "0.0.0.0" : (m[2] as string));
  return { host, port };
}

function deepFreeze<T>(o: T): T {
  if (typeof o === "object" && o !== null) {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
