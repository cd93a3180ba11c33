import { createHash } from "node:crypto";
import type { Kysely } from "kysely";
import type { Store } from "../../../store/index.js";

/**
 * Remembers the assertions that already signed someone in. `claim` is atomic: of two replicas that
 * see the same assertion at once, exactly one gets `true`.
 */
export interface ReplayGuard {
  /** True the first time this assertion is presented; false for a replay. */
  claim(
    provider: string,
    issuer: string,
    assertionId: string,
    expiresAt: number,
    now: number,
  ): Promise<boolean>;
}

type ReplayTables = {
  saml_assertion_ids: { id: string; provider: string; expires_at: number };
};

const PRUNE_EVERY_MS = 60_000;

function keyOf(provider: string, issuer: string, assertionId: string): string {
  return createHash("sha256").update(`${provider}\0${issuer}\0${assertionId}`).digest("hex");
}

/**
 * Assertion IDs in the store (`saml_assertion_ids`, migration 0004), shared by every replica; rows
 * are deleted once the assertion they name has expired, since an expired assertion is refused anyway.
 */
export class StoreReplayGuard implements ReplayGuard {
  private readonly db: Kysely<ReplayTables>;
  private lastPrune = 0;

  constructor(store: Store) {
    this.db = store.db.withTables<ReplayTables>() as unknown as Kysely<ReplayTables>;
  }

  async claim(
    provider: string,
    issuer: string,
    assertionId: string,
    expiresAt: number,
    now: number,
  ): Promise<boolean> {
    if (now - this.lastPrune > PRUNE_EVERY_MS) {
      this.lastPrune = now;
      await this.db.deleteFrom("saml_assertion_ids").where("expires_at", "<", now).execute();
    }
    const r = await this.db
      .insertInto("saml_assertion_ids")
      .values({ id: keyOf(provider, issuer, assertionId), provider, expires_at: expiresAt })
      .onConflict((oc) => oc.column("id").doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) === 1;
  }
}

/** Assertion IDs in this process only: for a single replica without a store (tools, unit tests). */
export class MemoryReplayGuard implements ReplayGuard {
  private readonly seen = new Map<string, number>();

  claim(
    provider: string,
    issuer: string,
    assertionId: string,
    expiresAt: number,
    now: number,
  ): Promise<boolean> {
    for (const [k, exp] of this.seen) if (exp < now) this.seen.delete(k);
    const key = keyOf(provider, issuer, assertionId);
    if (this.seen.has(key)) return Promise.resolve(false);
    this.seen.set(key, expiresAt);
    return Promise.resolve(true);
  }
}
