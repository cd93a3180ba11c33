import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { pino } from "pino";
import {
  ConfigError,
  ENV,
  parseConfigFile,
  resolveConfig,
  settingsFromEnv,
  type RawSettings,
} from "../../config/index.js";
import { StartupError, startGatehouse } from "../../server/app.js";
import { CliError } from "../errors.js";
import type { Output } from "../io.js";

interface ServeFlags {
  config?: string;
  listen?: string;
  dataDir?: string;
  database?: string;
  tlsCertFile?: string;
  tlsKeyFile?: string;
  logLevel?: string;
  encryptionKeyFile?: string;
  auditPolicyFile?: string;
  auditMode?: string;
  auditQueueSize?: string;
  auditMaxAge?: string;
  auditMaxEvents?: string;
  auditMaxSize?: string;
  auditWebhookConfigFile?: string;
  auditLogPath?: string;
  auditLogFormat?: string;
  auditLogMaxSize?: string;
  auditLogMaxAge?: string;
  auditLogMaxBackup?: string;
  auditUnauthenticatedPerSource?: string;
  auditUnauthenticatedBurst?: string;
  auditUnauthenticatedGlobal?: string;
  auditWriterThread?: string;
  issuerUrl?: string;
  accessTokenTtl?: string;
  refreshTokenIdleTtl?: string;
  sessionMaxAge?: string;
  identityProvidersFile?: string;
}

export function registerServe(program: Command, output: Output): void {
  program
    .command("serve")
    .description("run the Gatehouse server (HTTPS; embedded SQLite unless --database names PostgreSQL)")
    .option("--config <file>", `YAML configuration file (kind: ServerConfig) [env ${"GATEHOUSE_CONFIG"}]`)
    .option("--listen <host:port>", `address to serve on (default 127.0.0.1:8443) [env ${ENV.listen}]`)
    .option("--data-dir <dir>", `where Gatehouse keeps its files (default ./.gatehouse) [env ${ENV.dataDir}]`)
    .option(
      "--database <url>",
      `sqlite:PATH (default DATA_DIR/gatehouse.db) or postgres://... [env ${ENV.database}]`,
    )
    .option(
      "--tls-cert-file <file>",
      `serving certificate (PEM); default: self-signed, kept in DATA_DIR/tls [env ${ENV.tlsCertFile}]`,
    )
    .option("--tls-key-file <file>", `serving key (PEM) [env ${ENV.tlsKeyFile}]`)
    .option(
      "--encryption-key-file <file>",
      `keys that encrypt stored credentials, lines ID:BASE64-32-BYTES, the first encrypts; default: DATA_DIR/encryption.keys, generated (or keys inline in ${ENV.encryptionKeys}) [env ${ENV.encryptionKeyFile}]`,
    )
    .option(
      "--issuer-url <url>",
      `the iss of Gatehouse's tokens, as clusters in direct mode reach it (default: the serving URL) [env ${ENV.issuerUrl}]`,
    )
    .option(
      "--access-token-ttl <duration>",
      `access token lifetime (default 15m) [env ${ENV.accessTokenTtl}]`,
    )
    .option(
      "--refresh-token-idle-ttl <duration>",
      `a session unused this long ends (default 24h) [env ${ENV.refreshTokenIdleTtl}]`,
    )
    .option(
      "--session-max-age <duration>",
      `a session ends this long after sign-in (default 7d) [env ${ENV.sessionMaxAge}]`,
    )
    .option(
      "--identity-providers-file <path>",
      `IdentityProvider objects (YAML file or directory) applied at start [env ${ENV.identityProvidersFile}]`,
    )
    .option(
      "--audit-policy-file <file>",
      `audit.k8s.io/v1 Policy for gateway requests (default: every request at Metadata) [env ${ENV.auditPolicyFile}]`,
    )
    .option(
      "--audit-mode <mode>",
      `batch|blocking|blocking-strict, as kube-apiserver's --audit-*-mode (default batch) [env ${ENV.auditMode}]`,
    )
    .option(
      "--audit-queue-size <events>",
      `audit events held in memory at most (default 10000) [env ${ENV.auditQueueSize}]`,
    )
    .option(
      "--audit-max-age <duration>",
      `delete audit events older than this, e.g. 90d [env ${ENV.auditMaxAge}]`,
    )
    .option("--audit-max-events <n>", `keep at most this many audit events [env ${ENV.auditMaxEvents}]`)
    .option(
      "--audit-max-size <size>",
      `keep at most this many bytes of stored audit event JSON, oldest deleted first, e.g. 20Gi, 500M or 1048576 [env ${ENV.auditMaxSize}]`,
    )
    .option(
      "--audit-webhook-config-file <file>",
      `kubeconfig of an audit webhook to send events to, as kube-apiserver's flag [env ${ENV.auditWebhookConfigFile}]`,
    )
    .option("--audit-log-path <file>", `also write audit events to this file [env ${ENV.auditLogPath}]`)
    .option("--audit-log-format <format>", `json|legacy (default json) [env ${ENV.auditLogFormat}]`)
    .option(
      "--audit-log-maxsize <MB>",
      `rotate the audit log file at this size (default 100) [env ${ENV.auditLogMaxSize}]`,
    )
    .option(
      "--audit-log-maxage <days>",
      `delete rotated audit log files older than this [env ${ENV.auditLogMaxAge}]`,
    )
    .option(
      "--audit-log-maxbackup <n>",
      `keep at most this many rotated audit log files [env ${ENV.auditLogMaxBackup}]`,
    )
    .option(
      "--audit-unauthenticated-per-source <n>",
      `flood guard: failed-authentication (401) events recorded per client address per minute (default 60) [env ${ENV.auditUnauthenticatedPerSource}]`,
    )
    .option(
      "--audit-unauthenticated-burst <n>",
      `flood guard: 401 events a client address may have recorded at once before the rate applies (default 20) [env ${ENV.auditUnauthenticatedBurst}]`,
    )
    .option(
      "--audit-unauthenticated-global <n>",
      `flood guard: 401 events recorded per second from all addresses together (default 100) [env ${ENV.auditUnauthenticatedGlobal}]`,
    )
    .option(
      "--audit-writer-thread <true|false>",
      `on a SQLite file, store audit events from a writer thread with its own connection (default true; false keeps them on the main thread, faster when other work keeps every core busy) [env ${ENV.auditWriterThread}]`,
    )
    .option(
      "--log-level <level>",
      `trace|debug|info|warn|error|fatal|silent (default info) [env ${ENV.logLevel}]`,
    )
    .addHelpText(
      "after",
      "\nSettings are read from the config file, then the environment, then flags (later wins).\n" +
        "On the first start with an empty store, an `admin` user is created and its password printed once.",
    )
    .action(async (flags: ServeFlags) => {
      const config = loadConfig(flags, process.env);
      const log = pino({
        level: config.logLevel,
        base: { component: "gatehouse" },
        redact: ["req.headers.authorization", "*.password", "*.token"],
      });
      let app;
      try {
        app = await startGatehouse(config, {
          log,
          now: () => Date.now(),
          onAdminPassword: (pw) =>
            output.err(
              `\nCreated the first user "admin". Its password is shown this once; keep it safe:\n\n    ${pw}\n\n` +
                `Use it with HTTP Basic auth or 'gatehouse users list --server URL --username admin'.\n\n`,
            ),
        });
      } catch (e) {
        if (e instanceof StartupError) throw new CliError(`${e.message}; ${e.hint}`);
        throw e;
      }
      output.err(
        `Gatehouse is serving on ${app.url}${app.caFile ? ` (CA certificate: ${app.caFile})` : ""}\n`,
      );
      await new Promise<void>((resolve) => {
        process.once("SIGINT", resolve);
        process.once("SIGTERM", resolve);
      });
      log.info("shutting down");
      await app.close();
    });
}

/** Config file, then environment, then flags; every problem reported at once, exit 2. */
export function loadConfig(flags: ServeFlags, env: NodeJS.ProcessEnv): ReturnType<typeof resolveConfig> {
  const sources: { name: string; settings: RawSettings }[] = [];
  const file = flags.config ?? env["GATEHOUSE_CONFIG"];
  try {
    if (file !== undefined && file !== "") {
      let text: string;
      try {
        text = readFileSync(file, "utf8");
      } catch (e) {
        throw new CliError(
          `cannot read config file ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}; check --config`,
        );
      }
      sources.push({ name: file, settings: parseConfigFile(text, file) });
    }
    sources.push({ name: "environment", settings: settingsFromEnv(env) });
    const f: RawSettings = {};
    if (flags.listen !== undefined) f.listen = flags.listen;
    if (flags.dataDir !== undefined) f.dataDir = flags.dataDir;
    if (flags.database !== undefined) f.database = flags.database;
    if (flags.tlsCertFile !== undefined) f.tlsCertFile = flags.tlsCertFile;
    if (flags.tlsKeyFile !== undefined) f.tlsKeyFile = flags.tlsKeyFile;
    if (flags.logLevel !== undefined) f.logLevel = flags.logLevel;
    if (flags.encryptionKeyFile !== undefined) f.encryptionKeyFile = flags.encryptionKeyFile;
    if (flags.auditPolicyFile !== undefined) f.auditPolicyFile = flags.auditPolicyFile;
    if (flags.auditMode !== undefined) f.auditMode = flags.auditMode;
    if (flags.auditQueueSize !== undefined) f.auditQueueSize = flags.auditQueueSize;
    if (flags.auditMaxAge !== undefined) f.auditMaxAge = flags.auditMaxAge;
    if (flags.auditMaxEvents !== undefined) f.auditMaxEvents = flags.auditMaxEvents;
    if (flags.auditMaxSize !== undefined) f.auditMaxSize = flags.auditMaxSize;
    if (flags.auditWebhookConfigFile !== undefined) f.auditWebhookConfigFile = flags.auditWebhookConfigFile;
    if (flags.auditLogPath !== undefined) f.auditLogPath = flags.auditLogPath;
    if (flags.auditLogFormat !== undefined) f.auditLogFormat = flags.auditLogFormat;
    if (flags.auditLogMaxSize !== undefined) f.auditLogMaxSize = flags.auditLogMaxSize;
    if (flags.auditLogMaxAge !== undefined) f.auditLogMaxAge = flags.auditLogMaxAge;
    if (flags.auditLogMaxBackup !== undefined) f.auditLogMaxBackup = flags.auditLogMaxBackup;
    if (flags.auditUnauthenticatedPerSource !== undefined)
      f.auditUnauthenticatedPerSource = flags.auditUnauthenticatedPerSource;
    if (flags.auditUnauthenticatedBurst !== undefined)
      f.auditUnauthenticatedBurst = flags.auditUnauthenticatedBurst;
    if (flags.auditUnauthenticatedGlobal !== undefined)
      f.auditUnauthenticatedGlobal = flags.auditUnauthenticatedGlobal;
    if (flags.auditWriterThread !== undefined) f.auditWriterThread = flags.auditWriterThread;
    if (flags.issuerUrl !== undefined) f.issuerUrl = flags.issuerUrl;
    if (flags.accessTokenTtl !== undefined) f.accessTokenTtl = flags.accessTokenTtl;
    if (flags.refreshTokenIdleTtl !== undefined) f.refreshTokenIdleTtl = flags.refreshTokenIdleTtl;
    if (flags.sessionMaxAge !== undefined) f.sessionMaxAge = flags.sessionMaxAge;
    if (flags.identityProvidersFile !== undefined) f.identityProvidersFile = flags.identityProvidersFile;
    sources.push({ name: "flags", settings: f });
    return resolveConfig(sources);
  } catch (e) {
    if (e instanceof ConfigError) throw new CliError(`invalid configuration: ${e.problems.join("; ")}`);
    throw e;
  }
}
