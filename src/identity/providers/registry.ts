import type { Logger } from "pino";
import type { KeyRing } from "../../secrets/index.js";
import type { Store } from "../../store/index.js";
import {
  DEFAULT_TIMEOUT_SECONDS,
  IDENTITY_PROVIDER_KIND,
  commonOf,
  validateCommon,
  type ProviderSpec,
} from "./common.js";
import { openSection } from "./kind.js";
import type { IdentityProvider, PasswordProvider, ProviderFactory, RedirectProvider } from "./types.js";
import { oidcFactory } from "./oidc/index.js";
import { oauth2Factory } from "./oauth2/index.js";
import { githubFactory } from "./github/index.js";
import { ldapProviderFactory } from "./ldap/index.js";
import { createSamlFactory, MemoryReplayGuard, StoreReplayGuard } from "./saml/index.js";

/**
 * The provider kinds this build knows, by `spec.type`. A kind registers itself here with one line.
 * `services`: what a kind needs beyond its settings (SAML keeps used assertion IDs in the store;
 * without one, as in validation-only uses, it remembers them in this process only).
 */
export function providerFactories(services?: {
  store: Store;
  now: () => number;
}): Map<string, ProviderFactory> {
  const factories: ProviderFactory[] = [
    oidcFactory,
    oauth2Factory,
    githubFactory,
    ldapProviderFactory,
    createSamlFactory({
      replay: services ? new StoreReplayGuard(services.store) : new MemoryReplayGuard(),
      now: services?.now ?? Date.now,
    }),
  ];
  return new Map(factories.map((f) => [f.type, f]));
}

/** What the sign-in page and `gatehouse idp list` show about one configured provider. */
export interface ProviderInfo {
  name: string;
  type: string;
  flow: "password" | "redirect" | undefined;
  displayName: string;
  disabled: boolean;
  /** spec.timeoutSeconds in milliseconds. */
  timeoutMs: number;
  /** Why the provider could not be built from its object (bad secret key, invalid stored spec). */
  error?: string;
}

interface Entry {
  resourceVersion: string;
  info: ProviderInfo;
  provider?: IdentityProvider;
}

/** How long a replica trusts its view of the IdentityProvider objects before listing them again. */
const SYNC_INTERVAL_MS = 5_000;

/**
 * Live providers built from the stored IdentityProvider objects. An object is rebuilt when its
 * resourceVersion changes (so an update on another replica takes effect within 5 s, at once on
 * this one through `invalidate()`); removed objects' providers are closed. A provider that cannot be
 * built is listed with its error and signs nobody in.
 */
export class ProviderRegistry {
  private readonly entries = new Map<string, Entry>();
  private syncedAt = -Infinity;
  private syncing: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    private readonly keyRing: KeyRing,
    readonly factories: ReadonlyMap<string, ProviderFactory>,
    private readonly log: Logger,
    private readonly now: () => number,
  ) {}

  /** Forget the current view: the next call lists the objects again. */
  invalidate(): void {
    this.syncedAt = -Infinity;
  }

  async list(): Promise<ProviderInfo[]> {
    await this.sync();
    return [...this.entries.values()].map((e) => e.info).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** A provider that may sign people in now (exists, built, not disabled). */
  async get(name: string): Promise<IdentityProvider | undefined> {
    await this.sync();
    const e = this.entries.get(name);
    return e && !e.info.disabled ? e.provider : undefined;
  }

  /** The provider even when disabled (for `idp test`), or why it could not be built. */
  async inspect(name: string): Promise<{ info: ProviderInfo; provider?: IdentityProvider } | undefined> {
    await this.sync();
    const e = this.entries.get(name);
    return e && { info: e.info, ...(e.provider ? { provider: e.provider } : {}) };
  }

  async password(name: string): Promise<PasswordProvider | undefined> {
    const p = await this.get(name);
    return p?.flow === "password" ? p : undefined;
  }

  async redirect(name: string): Promise<RedirectProvider | undefined> {
    const p = await this.get(name);
    return p?.flow === "redirect" ? p : undefined;
  }

  async close(): Promise<void> {
    for (const e of this.entries.values()) await e.provider?.close?.().catch(() => undefined);
    this.entries.clear();
  }

  private async sync(): Promise<void> {
    if (this.syncedAt + SYNC_INTERVAL_MS > this.now()) return;
    this.syncing ??= this.load().finally(() => (this.syncing = undefined));
    await this.syncing;
  }

  private async load(): Promise<void> {
    const started = this.now();
    const seen = new Set<string>();
    let cont: string | undefined;
    do {
      const page = await this.store.objects.list(IDENTITY_PROVIDER_KIND, {
        limit: 500,
        ...(cont ? { continue: cont } : {}),
      });
      for (const row of page.items) {
        seen.add(row.name);
        const rv = String(row.resourceVersion);
        if (this.entries.get(row.name)?.resourceVersion === rv) continue;
        await this.entries
          .get(row.name)
          ?.provider?.close?.()
          .catch(() => undefined);
        this.entries.set(row.name, this.build(row.name, rv, row.body["spec"]));
      }
      cont = page.continue;
    } while (cont);
    for (const [name, e] of this.entries)
      if (!seen.has(name)) {
        await e.provider?.close?.().catch(() => undefined);
        this.entries.delete(name);
      }
    this.syncedAt = started;
  }

  private build(name: string, resourceVersion: string, rawSpec: unknown): Entry {
    const spec = (rawSpec ?? {}) as ProviderSpec;
    const info: ProviderInfo = {
      name,
      type: String(spec.type),
      flow: undefined,
      displayName: typeof spec.displayName === "string" ? spec.displayName : name,
      disabled: spec.disabled === true,
      timeoutMs:
        (typeof spec.timeoutSeconds === "number" ? spec.timeoutSeconds : DEFAULT_TIMEOUT_SECONDS) * 1000,
    };
    const fail = (error: string): Entry => {
      this.log.warn({ provider: name, error }, "identity provider cannot be used");
      return { resourceVersion, info: { ...info, error } };
    };
    const problems = validateCommon(rawSpec);
    if (problems.length > 0) return fail(problems.join("; "));
    const factory = this.factories.get(spec.type);
    if (!factory) return fail(`spec.type: ${spec.type} providers are not available in this build`);
    let section: Record<string, unknown>;
    try {
      section = openSection(this.keyRing, factory, name, spec);
    } catch (e) {
      return fail(`its secrets cannot be opened (${(e as Error).message}): set them again`);
    }
    try {
      const provider = factory.create(commonOf(name, spec), section);
      return { resourceVersion, info: { ...info, flow: provider.flow }, provider };
    } catch (e) {
      return fail((e as Error).message);
    }
  }
}
