import type { Logger } from "pino";
import type { ServerConfig } from "../config/index.js";
import type { Issuer } from "../identity/index.js";
import {
  applyProviderFiles,
  identityProviderKind,
  identityProviderSealedKind,
  loadProviderFiles,
  PendingSignIns,
  providerFactories,
  ProviderRegistry,
  UpstreamSessions,
} from "../identity/providers/index.js";
import type { KeyRing, SealedKind } from "../secrets/index.js";
import type { Store } from "../store/index.js";
import type { KindSpec } from "./api/kind.js";

export interface IdentityProviders {
  registry: ProviderRegistry;
  pending: PendingSignIns;
  upstream: UpstreamSessions;
  kind: KindSpec;
  sealedKind: SealedKind;
  /** Log every provider that cannot be used or reached (misconfiguration at start); never throws. */
  reportProblems(): void;
  /** Stop the hourly clean-up of ended sessions' provider links. */
  stop(): void;
}

/**
 * The identity providers of one server: the IdentityProvider kind, the configured file applied to the
 * store, the live registry, the pending sign-ins and the session link (wired into the issuer's
 * sessions so refreshes re-check people upstream).
 */
export async function startIdentityProviders(
  config: ServerConfig,
  d: {
    store: Store;
    keyRing: KeyRing;
    issuer: Issuer;
    log: Logger;
    now: () => number;
    /** The server's StartupError (a bad file stops the start, exit 2). */
    startupError: (message: string, hint: string) => Error;
  },
): Promise<IdentityProviders> {
  const factories = providerFactories({ store: d.store, now: d.now });
  const kind = identityProviderKind(d.keyRing, factories);
  const log = d.log.child({ component: "identity-providers" });
  if (config.identityProvidersFile !== undefined) {
    const { objects, problems } = loadProviderFiles(config.identityProvidersFile);
    const r = problems.length === 0 ? await applyProviderFiles(d.store, kind, objects, d.now()) : undefined;
    const all = [...problems, ...(r?.problems ?? [])];
    if (all.length > 0)
      throw d.startupError(
        `identityProvidersFile ${config.identityProvidersFile}: ${all.join("; ")}`,
        "fix the IdentityProvider objects in that file (gatehouse idp --help shows their fields)",
      );
    if (r && r.applied.length > 0)
      log.info({ applied: r.applied }, "identity providers applied from the configuration");
  }
  const registry = new ProviderRegistry(d.store, d.keyRing, factories, log, d.now);
  const upstream = new UpstreamSessions(d.store, d.keyRing, registry, log, d.now);
  d.issuer.sessions.useUpstream(upstream);
  const live = async (id: string): Promise<boolean> => {
    const s = await d.issuer.sessions.get(id);
    return s !== undefined && s.revokedAt === null && s.expiresAt > d.now();
  };
  const purge = setInterval(() => {
    upstream.purge(live).catch((e: unknown) => log.warn({ err: e }, "cleaning up session links failed"));
  }, 3_600_000);
  purge.unref();
  return {
    stop: () => clearInterval(purge),
    registry,
    pending: new PendingSignIns(d.store, d.keyRing, d.now),
    upstream,
    kind,
    sealedKind: identityProviderSealedKind(factories),
    reportProblems() {
      void (async () => {
        for (const info of await registry.list()) {
          if (info.disabled) continue;
          const found = await registry.inspect(info.name);
          const provider = found?.provider;
          if (!provider) continue; // already logged by the registry with its error
          const failed = (await provider.test(AbortSignal.timeout(info.timeoutMs * 3))).filter((c) => !c.ok);
          for (const c of failed)
            log.warn(
              { provider: info.name, step: c.step, problem: c.message },
              `identity provider ${info.name} is misconfigured or unreachable: run gatehouse idp test ${info.name}`,
            );
        }
      })().catch((e: unknown) => log.warn({ err: e }, "identity provider checks failed"));
    },
  };
}
