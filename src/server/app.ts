import { accessSync, constants, mkdirSync, readFileSync } from "node:fs";
import type { Logger } from "pino";
import type { ServerConfig } from "../config/index.js";
import { Store, describeLocation } from "../store/index.js";
import {
  accessKeyAuthenticator,
  basicAuthenticator,
  bootstrapAdmin,
  AuthorizationCodes,
  createIssuer,
  DeviceGrants,
  issuerOptions,
  LoginThrottle,
  unionAuthenticator,
} from "../identity/index.js";
import { addAuthRoutes } from "./api/auth.js";
import { addTotpRoutes } from "./api/totp.js";
import { TotpEnrolments } from "../identity/totp.js";
import { addTokenReviewRoute } from "./api/tokenreview.js";
import { addDeviceRoutes } from "./api/device.js";
import { addAuthorizeRoutes } from "./api/authorize.js";
import { addIdpRoutes } from "./api/idp.js";
import { addSamlMetadataRoute } from "./api/saml-metadata.js";
import { addIdentityProviderTestRoute } from "./api/idp-admin.js";
import { startIdentityProviders } from "./identity-providers.js";
import { Router } from "./router.js";
import { buildPipeline } from "./pipeline.js";
import { withAudit } from "./filters/audit.js";
import { addAuditRoutes, addClusterAuditReceiver, auditPolicyKind } from "./api/audit.js";
import { withFailedAuthenticationAudit } from "./filters/audit-unauthenticated.js";
import { startAuditPipeline, type AuditPipeline, type AuditSettings } from "../audit/index.js";
import { randomUUID } from "node:crypto";
import { formatMicroTime, type GatehouseEvent, type GatehouseEventContext } from "../core/audit/index.js";
import { IMPERSONATOR } from "../clusters/impersonator.js";
import { createMetrics } from "./metrics.js";
import { listen } from "./server.js";
import { ensureSelfSigned } from "./tls.js";
import { addHealthRoutes } from "./api/health.js";
import { addDiscoveryRoutes } from "./api/discovery.js";
import { addUserRoutes } from "./api/users.js";
import { addUserStatusRoutes } from "./api/users-status.js";
import { addAccessKeyRoutes } from "./api/access-keys.js";
import { addResourceRoutes } from "./api/resources.js";
import { accessBindingKind, accessRoleKind, teamKind } from "./api/kinds/access.js";
import { AccessEvaluator } from "./gateway/access.js";
import { gatewayHandler } from "./gateway/handler.js";
import { GATEWAY_PREFIX } from "./gateway/target.js";
import { UpstreamPools } from "./gateway/upstream.js";
import type { ClusterRegistry } from "../clusters/types.js";
import { startRbacReconciler, type RbacReconciler } from "./rbac-reconciler.js";
import { tenantKind } from "./api/kinds/tenant.js";
import {
  addTenancyRoutes,
  tenantReadable,
  startTenancyReconciler,
  TenancyService,
  tenancyGateway,
  type TenancyReconciler,
} from "./tenancy/index.js";
import {
  clusterKind,
  clusterSealedKind,
  createClusterRegistry,
  startHealthChecks,
} from "../clusters/index.js";
import { addReencryptRoute, loadKeyRing, SecretsError, type KeyRing } from "../secrets/index.js";

/** How often every registered cluster's /readyz and /version are checked. */
const CLUSTER_HEALTH_INTERVAL_MS = 30_000;

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
  /** Requests served by HTTP version ("1.1", "2.0"), for tests and diagnostics. */
  protocolStats(): Readonly<Record<string, number>>;
  /** Keeps the clusters' RBAC in step with the access bindings; runOnce() to wait for it. */
  reconciler: RbacReconciler;
  /** Keeps tenant spaces as their tenants say (drift repair); runOnce() to wait for it. */
  tenancy: TenancyReconciler;
  /** The audit pipeline; flush() to wait until recorded events are stored. */
  audit: AuditPipeline;
  close(): Promise<void>;
}

export interface AppEffects {
  log: Logger;
  now: () => number;
  /** Called once, on the first start with an empty store, with the admin's one-time password. */
  onAdminPassword: (password: string) => void;
}

/** The clusters the gateway forwards to; made once the store (and its encryption keys) are open. */
export type ClusterRegistryFactory = (store: Store) => ClusterRegistry;

/**
 * The composition root: validated config in, running server out. Order matters for "nothing
 * half-written": the data directory is checked before anything is created, the port is bound before
 * the admin user is created and its password shown.
 */
export async function startGatehouse(
  config: ServerConfig,
  fx: AppEffects,
  registryFactory?: ClusterRegistryFactory,
  auditSettings: AuditSettings = config.audit,
): Promise<Gatehouse> {
  ensureWritableDir(config.dataDir);
  let store: Store;
  try {
    store = await Store.open(config.database, { auditWorker: auditSettings.writerThread });
  } catch (e) {
    throw new StartupError(
      `cannot use the store: ${(e as Error).message}`,
      config.database.kind === "postgres"
        ? "check that PostgreSQL is running and the --database URL (host, port, user, database) is right"
        : "check that the SQLite path in --database is writable",
    );
  }
  let audit: AuditPipeline | undefined;
  try {
    // After the store: a start that fails on the store leaves no key file behind.
    const keyRing = openKeyRing(config);
    const tls = await loadTls(config, fx.now);
    const metrics = createMetrics();
    const router = new Router();
    audit = startAuditPipeline(store, auditSettings, {
      log: fx.log,
      now: fx.now,
      registry: metrics.registry,
    });
    await audit.clusterPolicies.refresh();
    addAuditRoutes(router, { store, maxBody: config.maxRequestBodyBytes, flush: audit.flush });
    addHealthRoutes(router, { store, metrics });
    addDiscoveryRoutes(router);
    addUserRoutes(router, { store, maxBody: config.maxRequestBodyBytes, now: fx.now });
    addAccessKeyRoutes(router, { store, maxBody: config.maxRequestBodyBytes, now: fx.now });
    const access = new AccessEvaluator(store);
    const clusters = registryFactory?.(store) ?? createClusterRegistry(store, keyRing);
    addClusterAuditReceiver(router, { clusters, writer: audit.writer });
    // Gatehouse as token issuer; its URL is the server's own once it listens (src/identity/issuer).
    const { issuerUrl, ...lifetimes } = config.tokens;
    const issuer = createIssuer(store, keyRing, issuerOptions(issuerUrl ?? "", lifetimes), fx.now);
    const pipeline = audit;
    addUserStatusRoutes(router, {
      store,
      maxBody: config.maxRequestBodyBytes,
      now: fx.now,
      revokeSessions: (user, reason) => issuer.sessions.revokeAllFor(user, reason),
      recordEvent: (e, c) => pipeline.recordGatehouseEvent(e, c),
    });
    const idps = await startIdentityProviders(config, {
      store,
      keyRing,
      issuer,
      log: fx.log,
      now: fx.now,
      startupError: (m, hint) => new StartupError(m, hint),
    });
    const authDeps = {
      providers: idps.registry,
      upstream: idps.upstream,
      totp: new TotpEnrolments(store, keyRing, fx.now),
      recordEvent: (e: GatehouseEvent, c: GatehouseEventContext) => pipeline.recordGatehouseEvent(e, c),
      store,
      issuer,
      throttle: new LoginThrottle(fx.now),
      devices: new DeviceGrants(store, fx.now),
      codes: new AuthorizationCodes(store, fx.now),
      access,
      clusters,
      maxBody: config.maxRequestBodyBytes,
      log: fx.log,
    };
    addAuthRoutes(router, authDeps);
    addTotpRoutes(router, { ...authDeps, issuerName: "Gatehouse" });
    addDeviceRoutes(router, authDeps, fx.now);
    addAuthorizeRoutes(router, authDeps);
    addIdpRoutes(router, { ...authDeps, pending: idps.pending, upstream: idps.upstream, now: fx.now });
    addSamlMetadataRoute(router, { providers: idps.registry, issuer });
    addTokenReviewRoute(router, { issuer, maxBody: config.maxRequestBodyBytes });
    const reconciler = startRbacReconciler({
      registry: clusters,
      access,
      log: fx.log.child({ component: "rbac-sync" }),
      intervalMs: 30_000,
    });
    const onAccessChange = (): void => {
      access.invalidate();
      reconciler.trigger();
    };
    const resourceDeps = {
      store,
      maxBody: config.maxRequestBodyBytes,
      now: fx.now,
      onChange: onAccessChange,
    };
    for (const kind of [teamKind, accessRoleKind, accessBindingKind])
      addResourceRoutes(router, kind, resourceDeps);
    const pools = new UpstreamPools({ connectTimeoutMs: 10_000, maxSockets: 256 });
    const clusterDeps = {
      ...resourceDeps,
      onChange: () => {
        clusters.invalidate();
        access.invalidate();
        reconciler.trigger();
      },
    };
    addResourceRoutes(router, clusterKind(keyRing), clusterDeps);
    const policies = audit.clusterPolicies;
    addResourceRoutes(router, auditPolicyKind, { ...resourceDeps, onChange: () => void policies.refresh() });
    const tenancyService = new TenancyService({
      store,
      clusters,
      log: fx.log.child({ component: "tenancy" }),
      now: fx.now,
      onAccessChange,
    });
    const tenancy = startTenancyReconciler({
      service: tenancyService,
      clusters,
      log: fx.log.child({ component: "tenancy" }),
      intervalMs: 30_000,
    });
    addResourceRoutes(router, tenantKind, {
      ...resourceDeps,
      onChange: () => tenancy.trigger(),
      // Owners and members read their own tenants (gatehouse tenant get/list); writes stay admin-only.
      readableBy: tenantReadable(access),
      // A tenant's spaces are namespaces holding its workloads: they go one by one, on purpose.
      beforeDelete: async (name) => {
        const left = (await tenancyService.spaces.spaces()).filter((s) => s.tenant === name);
        if (left.length === 0) return undefined;
        const names = left.map((s) => `${s.cluster}/${s.namespace}`).join(", ");
        return `tenants.gatehouse.io ${JSON.stringify(name)} still has ${left.length} space(s) (${names}): delete them first with gatehouse space delete`;
      },
    });
    addTenancyRoutes(router, {
      service: tenancyService,
      access,
      clusters,
      maxBody: config.maxRequestBodyBytes,
    });
    addResourceRoutes(router, idps.kind, { ...resourceDeps, onChange: () => idps.registry.invalidate() });
    addIdentityProviderTestRoute(router, { providers: idps.registry });
    addReencryptRoute(router, {
      store,
      keyRing,
      kinds: [clusterSealedKind, idps.sealedKind],
      onChange: () => {
        clusterDeps.onChange();
        idps.registry.invalidate();
      },
    });
    router.prefix(
      GATEWAY_PREFIX,
      gatewayHandler({
        clusters,
        access,
        pools,
        responseTimeoutMs: 60_000,
        maxBodyBytes: config.maxRequestBodyBytes,
        tenancy: tenancyGateway({
          service: tenancyService,
          access,
          maxBodyBytes: config.maxRequestBodyBytes,
        }),
      }),
    );
    // Replicas sharing PostgreSQL see each other's access changes within this interval.
    const refresh = setInterval(() => void access.refresh().catch(() => undefined), 5_000);
    refresh.unref();
    const handler = buildPipeline({
      authn: unionAuthenticator([
        issuer.authenticator,
        basicAuthenticator(store, authDeps.totp),
        accessKeyAuthenticator(store, fx.now),
      ]),
      metrics,
      audit: withAudit({ recorder: audit.recorder, policies: audit.clusterPolicies.set, now: fx.now }),
      failedAuthnAudit: withFailedAuthenticationAudit({
        recorder: audit.recorder,
        policies: audit.clusterPolicies.set,
        limiter: audit.unauthenticated,
        now: fx.now,
      }),
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
    issuer.useUrlIfUnset(server.url);
    fx.log.info({ url: server.url, store: describeLocation(config.database) }, "Gatehouse is serving");
    idps.reportProblems();
    const stopHealthChecks = startHealthChecks(clusters, store, {
      intervalMs: CLUSTER_HEALTH_INTERVAL_MS,
      log: fx.log.child({ component: "cluster-health" }),
      now: fx.now,
      keyRing, // renews impersonator tokens before they expire
      // A renewal rewrites the cluster's stored credential: a Gatehouse action, so it is audited.
      onRenewed: (name, expires) =>
        pipeline
          .recordGatehouseEvent(
            { kind: "cluster.updated", cluster: name },
            {
              auditID: randomUUID(),
              actor: { username: IMPERSONATOR.controllerUser, groups: [] },
              requestURI: `/apis/gatehouse.io/v1alpha1/clusters/${name}`,
              sourceIPs: [],
              userAgent: `gatehouse/token-renewer (token expires ${expires})`,
              timestamp: formatMicroTime(fx.now()),
            },
          )
          .catch((e: unknown) => fx.log.warn({ err: e, cluster: name }, "could not audit a token renewal")),
    });
    return {
      url: server.url,
      caFile: tls.caFile,
      store,
      protocolStats: server.protocolStats,
      reconciler,
      tenancy,
      audit,
      close: async () => {
        reconciler.stop();
        tenancy.stop();
        clearInterval(refresh);
        await stopHealthChecks();
        idps.stop();
        await idps.registry.close();
        pools.close();
        await server.close();
        await audit?.close();
        await store.close();
      },
    };
  } catch (e) {
    await audit?.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    throw e;
  }
}

/** The key ring that seals stored secrets; a key file that cannot be used stops the start (exit 2). */
function openKeyRing(config: ServerConfig): KeyRing {
  try {
    return loadKeyRing(config.encryptionKeys);
  } catch (e) {
    if (!(e instanceof SecretsError)) throw e;
    throw new StartupError(
      `cannot load the encryption keys: ${e.message}`,
      "fix the key file (lines ID:BASE64-32-BYTES) or choose another with --encryption-key-file",
    );
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
