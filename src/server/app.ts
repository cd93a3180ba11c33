import { accessSync, constants, mkdirSync, readFileSync } from "node:fs";
import type { Logger } from "pino";
import type { ServerConfig } from "../config/index.js";
import { Store, describeLocation } from "../store/index.js";
import { basicAuthenticator, bootstrapAdmin, unionAuthenticator } from "../identity/index.js";
import { Router } from "./router.js";
import { buildPipeline } from "./pipeline.js";
import { createMetrics } from "./metrics.js";
import { listen } from "./server.js";
import { ensureSelfSigned } from "./tls.js";
import { addHealthRoutes } from "./api/health.js";
import { addDiscoveryRoutes } from "./api/discovery.js";
import { addUserRoutes } from "./api/users.js";

/** Why the server could not start; `hint` says what to do. The CLI prints it on one line, exit 2. */
export class StartupError extends Error {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
    this.name = "StartupError";
  }
}

export interface Gatehouse {
  url: string;
  caFile: string | undefined;
  store: Store;
  close(): Promise<void>;
}

export interface AppEffects {
  log: Logger;
  now: () => number;
  /** Called once, on the first start with an empty store, with the admin's one-time password. */
  onAdminPassword: (password: string) => void;
}

/**
 * The composition root: validated config in, running server out. Order matters for "nothing
 * half-written": the data directory is checked before anything is created, the port is bound before
 * the admin user is created and its password shown.
 */
export async function startGatehouse(config: ServerConfig, fx: AppEffects): Promise<Gatehouse> {
  ensureWritableDir(config.dataDir);
  let store: Store;
  try {
    store = await Store.open(config.database);
  } catch (e) {
    throw new StartupError(
      `cannot use the store: ${(e as Error).message}`,
      config.database.kind === "postgres"
        ? "check that PostgreSQL is running and the --database URL (host, port, user, database) is right"
        : "check that the SQLite path in --database is writable",
    );
  }
  try {
    const tls = await loadTls(config, fx.now);
    const metrics = createMetrics();
    const router = new Router();
    addHealthRoutes(router, { store, metrics });
    addDiscoveryRoutes(router);
    addUserRoutes(router, { store, maxBody: config.maxRequestBodyBytes, now: fx.now });
    const handler = buildPipeline({
      authn: unionAuthenticator([basicAuthenticator(store)]),
      metrics,
      route: router.handler(),
    });
    const server = await listen(
      { host: config.listen.host, port: config.listen.port, certPem: tls.certPem, keyPem: tls.keyPem },
      handler,
      fx.log,
      fx.now,
    ).catch((e: NodeJS.ErrnoException) => {
      const at = `${config.listen.host}:${config.listen.port}`;
      if (e.code === "EADDRINUSE")
        throw new StartupError(
          `cannot listen on ${at}: address already in use`,
          "stop the other process or choose another address with --listen HOST:PORT",
        );
      if (e.code === "EACCES")
        throw new StartupError(
          `cannot listen on ${at}: permission denied`,
          "use a port above 1023 with --listen HOST:PORT",
        );
      throw new StartupError(
        `cannot listen on ${at}: ${e.code ?? e.message}`,
        "check the host in --listen HOST:PORT",
      );
    });
    const password = await bootstrapAdmin(store, fx.now());
    if (password !== undefined) fx.onAdminPassword(password);
    fx.log.info({ url: server.url, store: describeLocation(config.database) }, "Gatehouse is serving");
    return {
      url: server.url,
      caFile: tls.caFile,
      store,
      close: async () => {
        await server.close();
        await store.close();
      },
    };
  } catch (e) {
    await store.close().catch(() => undefined);
    throw e;
  }
}

function ensureWritableDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    accessSync(dir, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch (e) {
    throw new StartupError(
      `data directory ${dir} is not usable: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
      "choose a readable and writable directory with --data-dir DIR",
    );
  }
}

async function loadTls(
  config: ServerConfig,
  now: () => number,
): Promise<{ certPem: string; keyPem: string; caFile: string | undefined }> {
  if (config.tls.kind === "selfSigned") {
    const c = await ensureSelfSigned(config.dataDir, config.listen.host, new Date(now()));
    return { certPem: c.certPem, keyPem: c.keyPem, caFile: c.caFile };
  }
  try {
    return {
      certPem: readFileSync(config.tls.certFile, "utf8"),
      keyPem: readFileSync(config.tls.keyFile, "utf8"),
      caFile: undefined,
    };
  } catch (e) {
    throw new StartupError(
      `cannot read TLS certificate or key: ${(e as Error).message}`,
      "check --tls-cert-file and --tls-key-file",
    );
  }
}
