import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { resolveConfig, type RawSettings, type ServerConfig } from "../../src/config/index.js";
import { startGatehouse, type Gatehouse } from "../../src/server/app.js";
import { createClusterRegistry, type ObservableClusterRegistry } from "../../src/clusters/index.js";
import { loadKeyRing } from "../../src/secrets/index.js";
import { gatehouse, type CliResult } from "../cli/run.js";
import { call, type Reply } from "../server/client.js";

export interface GatehouseFixture {
  gh: Gatehouse;
  config: ServerConfig;
  dir: string;
  password: string;
  /** Run `gatehouse ARGS --server ... --username admin --password-stdin --certificate-authority ...`. */
  cli(args: string[], env?: NodeJS.ProcessEnv): Promise<CliResult>;
  /** A management-API request as the admin. */
  api(method: string, path: string, body?: unknown): Promise<Reply>;
  /** A registry over the same store and keys, as the gateway sees it. */
  registry(): ObservableClusterRegistry;
  restart(settings?: RawSettings): Promise<void>;
  stop(): Promise<void>;
}

/** Gatehouse in-process on a fresh data directory (SQLite unless `database` is given). */
export async function startFixture(settings: RawSettings = {}): Promise<GatehouseFixture> {
  const dir = (settings.dataDir as string | undefined) ?? mkdtempSync(join(tmpdir(), "gatehouse-clusters-"));
  let password = "";
  const make = (extra: RawSettings): ServerConfig =>
    resolveConfig([
      {
        name: "test",
        settings: { listen: "127.0.0.1:0", dataDir: dir, logLevel: "silent", ...settings, ...extra },
      },
    ]);
  let config = make({});
  const start = (c: ServerConfig): Promise<Gatehouse> =>
    startGatehouse(c, {
      log: pino({ level: "silent" }),
      now: () => Date.now(),
      onAdminPassword: (pw) => (password = pw),
    });
  let gh = await start(config);
  const f: GatehouseFixture = {
    get gh() {
      return gh;
    },
    get config() {
      return config;
    },
    dir,
    get password() {
      return password;
    },
    cli: (args, env = {}) =>
      gatehouse(
        [
          ...args,
          "--server",
          gh.url,
          "--username",
          "admin",
          "--password-stdin",
          "--certificate-authority",
          gh.caFile as string,
        ],
        { input: password, env },
      ),
    api: (method, path, body) =>
      call(gh.url, gh.caFile as string, method, path, {
        auth: ["admin", password],
        ...(body !== undefined
          ? { body: JSON.stringify(body), headers: { "content-type": "application/json" } }
          : {}),
      }),
    registry: () => createClusterRegistry(gh.store, loadKeyRing(config.encryptionKeys)),
    async restart(extra = {}) {
      await gh.close();
      config = make(extra);
      gh = await start(config);
    },
    stop: () => gh.close(),
  };
  return f;
}

/** Poll until `f` returns a value that is not undefined, or fail after `ms`. */
export async function eventually<T>(
  f: () => Promise<T | undefined>,
  ms = 20_000,
  what = "condition",
): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await f();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}
