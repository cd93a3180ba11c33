import type { Store } from "../store/index.js";
import { StoreError } from "../store/index.js";
import type { KeyRing } from "./keyring.js";

/**
 * A kind whose stored objects hold sealed secrets. The secrets component does not know where in a
 * body a kind keeps them (or with which associated data); the kind says how to re-seal them.
 */
export interface SealedKind {
  kind: string;
  /** The body with every secret sealed under the primary key; undefined when all already are. */
  reseal(body: Record<string, unknown>, name: string, keyRing: KeyRing): Record<string, unknown> | undefined;
}

export interface ReencryptResult {
  primaryKeyId: string;
  /** Objects rewritten under the primary key. */
  rewritten: number;
  /** Objects whose secrets were already under the primary key. */
  current: number;
  /** Objects that could not be re-encrypted, with why (e.g. their key was removed too early). */
  failed: { kind: string; name: string; message: string }[];
}

const PAGE = 200;
const ATTEMPTS = 5;

/**
 * Rewrite every stored secret under the primary key, with optimistic updates (a concurrent write is
 * re-read and retried, never overwritten). Safe to run again; after a run with no failures the old
 * keys can be removed from every replica.
 */
export async function reencryptAll(
  store: Store,
  keyRing: KeyRing,
  kinds: readonly SealedKind[],
): Promise<ReencryptResult> {
  const result: ReencryptResult = {
    primaryKeyId: keyRing.primaryKeyId,
    rewritten: 0,
    current: 0,
    failed: [],
  };
  for (const k of kinds) {
    let cont: string | undefined;
    do {
      const page = await store.objects.list(k.kind, { limit: PAGE, ...(cont ? { continue: cont } : {}) });
      for (const row of page.items) {
        try {
          const changed = await resealOne(store, keyRing, k, row.namespace, row.name);
          if (changed) result.rewritten++;
          else result.current++;
        } catch (e) {
          if (e instanceof StoreError && e.code === "Unavailable") throw e;
          result.failed.push({ kind: k.kind, name: row.name, message: (e as Error).message });
        }
      }
      cont = page.continue;
    } while (cont !== undefined);
  }
  return result;
}

async function resealOne(
  store: Store,
  keyRing: KeyRing,
  k: SealedKind,
  namespace: string,
  name: string,
): Promise<boolean> {
  const key = { kind: k.kind, namespace, name };
  for (let attempt = 1; ; attempt++) {
    const row = await store.objects.get(key);
    if (!row) return false; // deleted meanwhile: nothing left to protect
    const body = k.reseal(row.body, name, keyRing);
    if (!body) return false;
    try {
      await store.objects.update(key, body, row.resourceVersion);
      return true;
    } catch (e) {
      if (e instanceof StoreError && e.code === "Conflict" && attempt < ATTEMPTS) continue;
      if (e instanceof StoreError && e.code === "NotFound") return false;
      throw e;
    }
  }
}
