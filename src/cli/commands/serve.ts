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
    sources.push({ name: "flags", settings: f });
    return resolveConfig(sources);
  } catch (e) {
    if (e instanceof ConfigError) throw new CliError(`invalid configuration: ${e.problems.join("; ")}`);
    throw e;
  }
}
