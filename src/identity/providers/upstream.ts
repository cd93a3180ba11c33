import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { KeyRing } from "../../secrets/index.js";
import type { Store, UserRecord } from "../../store/index.js";
import { StoreError } from "../../store/index.js";
import type { ProviderRegistry } from "./registry.js";
import type { ExternalIdentity } from "./types.js";

/** The provider behind a Gatehouse session, named by the session ID. */
export const SESSION_UPSTREAM_KIND = "SessionUpstream";
const IN_FLIGHT_AAD = "SessionUpstream/in-flight";

/** What a session refresh learns from the provider: go on (with fresh groups), or end the session. */
export type UpstreamVerdict = { kind: "ok"; user: UserRecord } | { kind: "gone"; reason: string };

/**
 * Links Gatehouse sessions to the provider that signed them in, and re-checks the person there when
 * the session is refreshed. The identity (with the provider's `recheckState`, an upstream refresh
 * token say) is sealed with the key ring, bound to the session ID; it travels from the callback to
 * the session sealed as well (inside the authorization code's record).
 *
 * At refresh: provider gone or disabled → the session ends; the person removed, disabled or refused
 * upstream → the session ends; provider unreachable → the session goes on (it still ends at its own
 * idle and absolute lifetimes); ok → the user's groups become the provider's current ones.
 */
export class UpstreamSessions {
  constructor(
    private readonly store: Store,
    private readonly keyRing: KeyRing,
    private readonly registry: ProviderRegistry,
    private readonly log: Logger,
    private readonly now: () => number,
  ) {}

  /** The identity sealed for the trip through an authorization code (or straight to `attach`). */
  seal(identity: ExternalIdentity): string {
    return this.keyRing.seal(JSON.stringify(identity), IN_FLIGHT_AAD);
  }

  /** Remember which provider signed this session in. */
  async attach(sessionId: string, sealed: string): Promise<void> {
    const identity = JSON.parse(this.keyRing.open(sealed, IN_FLIGHT_AAD)) as ExternalIdentity;
    await this.store.objects.create(
      this.key(sessionId),
      randomUUID(),
      this.body(sessionId, identity),
      this.now(),
    );
  }

  /** Re-check the person behind a session upstream (see the class comment). */
  async recheck(sessionId: string, user: UserRecord): Promise<UpstreamVerdict> {
    const row = await this.store.objects.get(this.key(sessionId));
    if (!row) return { kind: "ok", user };
    const b = row.body as { provider: string; sealed: string };
    const found = await this.registry.inspect(b.provider);
    if (!found) return { kind: "gone", reason: `identity provider ${b.provider} was removed` };
    if (found.info.disabled) return { kind: "gone", reason: `identity provider ${b.provider} is disabled` };
    const provider = found.provider;
    if (!provider) {
      this.log.warn({ provider: b.provider, error: found.info.error }, "session kept: provider unusable");
      return { kind: "ok", user };
    }
    if (!provider.recheck) return { kind: "ok", user };
    const identity = JSON.parse(this.keyRing.open(b.sealed, this.aad(sessionId))) as ExternalIdentity;
    const r = await provider
      .recheck(identity, AbortSignal.timeout(found.info.timeoutMs))
      .catch((e: unknown) => ({ kind: "unavailable", reason: (e as Error).message }) as const);
    if (r.kind === "unavailable") {
      this.log.warn(
        { provider: b.provider, user: user.name, reason: r.reason },
        "session kept: provider unavailable",
      );
      return { kind: "ok", user };
    }
    if (r.kind === "gone") return { kind: "gone", reason: r.reason };
    if (r.identity.username !== user.name || r.identity.subject !== identity.subject)
      return { kind: "gone", reason: "the provider now names this person differently: sign in again" };
    const groups = r.identity.groups.filter((g) => !g.startsWith("system:"));
    const t = this.now();
    if (JSON.stringify(groups) !== JSON.stringify(user.groups))
      await this.store.users.update(user.name, { groups }, t);
    await this.store.objects
      .update(this.key(sessionId), this.body(sessionId, r.identity))
      .catch((e: unknown) => {
        if (!(e instanceof StoreError && e.code === "NotFound")) throw e;
      });
    return { kind: "ok", user: { ...user, groups, updatedAt: t } };
  }

  /**
   * Forget the links of sessions that have ended (revoked, expired or purged); `live` says whether a
   * session still runs. Run hourly by the server.
   */
  async purge(live: (sessionId: string) => Promise<boolean>): Promise<number> {
    let removed = 0;
    let cont: string | undefined;
    do {
      const page = await this.store.objects.list(SESSION_UPSTREAM_KIND, {
        limit: 500,
        ...(cont ? { continue: cont } : {}),
      });
      for (const o of page.items)
        if (!(await live(o.name))) {
          await this.store.objects.delete(this.key(o.name)).catch(() => undefined);
          removed++;
        }
      cont = page.continue;
    } while (cont);
    return removed;
  }

  private body(sessionId: string, identity: ExternalIdentity): Record<string, unknown> {
    return {
      provider: identity.provider,
      subject: identity.subject,
      sealed: this.keyRing.seal(JSON.stringify(identity), this.aad(sessionId)),
    };
  }

  private aad(sessionId: string): string {
    return `${SESSION_UPSTREAM_KIND}/${sessionId}`;
  }

  private key(sessionId: string): { kind: string; namespace: string; name: string } {
    return { kind: SESSION_UPSTREAM_KIND, namespace: "", name: sessionId };
  }
}
