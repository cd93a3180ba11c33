import type { KeyRing } from "../secrets/index.js";
import type { Store, StoredObject } from "../store/index.js";
import { openCredentials, storedCredentialsOf } from "./credentials.js";
import { CLUSTER_KIND, type ClusterRegistry, type ClusterTarget } from "./types.js";
import { IMPERSONATOR } from "./impersonator.js";

/** Why a registered cluster cannot be used: its credentials do not open (e.g. a key was removed). */
export class ClusterCredentialsError extends Error {
  constructor(
    readonly cluster: string,
    message: string,
  ) {
    super(message);
    this.name = "ClusterCredentialsError";
  }
}

/** A ClusterRegistry whose cache invalidations can be observed (the health checker checks new clusters at once). */
export interface ObservableClusterRegistry extends ClusterRegistry {
  /** Call `listener` after every invalidate(); returns a function that unsubscribes. */
  onInvalidate(listener: () => void): () => void;
}

type Entry = { target: ClusterTarget } | { error: ClusterCredentialsError };

interface Snapshot {
  loadedAt: number;
  entries: Map<string, Entry>;
}

/**
 * The registry over the store, decrypting with the key ring. Everything is read in one go and kept
 * for `ttlMs` (default 5 s), so the gateway does not hit the database and AES on every request; other
 * replicas' writes are seen within the TTL, this replica's at once (the API layer calls invalidate()).
 *
 * `get` of a cluster whose credentials do not open throws ClusterCredentialsError (fail closed: the
 * gateway answers an error rather than reaching the cluster some other way); `list` leaves such
 * clusters out, and the health checker reports them not ready with the reason.
 */
export function createClusterRegistry(
  store: Store,
  keyRing: KeyRing,
  opts: { ttlMs?: number; now?: () => number } = {},
): ObservableClusterRegistry {
  const ttl = opts.ttlMs ?? 5000;
  const now = opts.now ?? Date.now;
  let snapshot: Snapshot | undefined;
  let loading: Promise<Snapshot> | undefined;
  let generation = 0;
  const listeners = new Set<() => void>();

  const load = async (): Promise<Snapshot> => {
    if (snapshot && now() - snapshot.loadedAt < ttl) return snapshot;
    if (loading) return loading;
    const gen = generation;
    const started = now();
    const p: Promise<Snapshot> = readAll(store, keyRing)
      .then((entries) => {
        const s = { loadedAt: started, entries };
        // An invalidate() during the read means the read may predate a write: serve it, do not keep it.
        if (gen === generation) snapshot = s;
        return s;
      })
      .finally(() => {
        if (loading === p) loading = undefined;
      });
    loading = p;
    return p;
  };

  return {
    async get(name) {
      const e = (await load()).entries.get(name);
      if (!e) return undefined;
      if ("error" in e) throw e.error;
      return e.target;
    },
    async list() {
      const out: ClusterTarget[] = [];
      for (const e of (await load()).entries.values()) if ("target" in e) out.push(e.target);
      return out;
    },
    invalidate() {
      generation++;
      snapshot = undefined;
      loading = undefined;
      for (const l of listeners) l();
    },
    onInvalidate(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

async function readAll(store: Store, keyRing: KeyRing): Promise<Map<string, Entry>> {
  const entries = new Map<string, Entry>();
  let cont: string | undefined;
  do {
    const page = await store.objects.list(CLUSTER_KIND, { limit: 500, ...(cont ? { continue: cont } : {}) });
    for (const row of page.items) entries.set(row.name, toEntry(row, keyRing));
    cont = page.continue;
  } while (cont !== undefined);
  return entries;
}

/** A stored Cluster as a target, credentials decrypted; frozen, since it is shared by every caller. */
export function toTarget(row: StoredObject, keyRing: KeyRing): ClusterTarget {
  const e = toEntry(row, keyRing);
  if ("error" in e) throw e.error;
  return e.target;
}

function toEntry(row: StoredObject, keyRing: KeyRing): Entry {
  const body = row.body;
  const spec = (body["spec"] ?? {}) as Record<string, unknown>;
  const meta = (body["metadata"] ?? {}) as { labels?: Record<string, string> };
  const stored = storedCredentialsOf(body);
  if (!stored)
    return {
      error: new ClusterCredentialsError(
        row.name,
        `cluster ${JSON.stringify(row.name)} has no stored credentials`,
      ),
    };
  let creds;
  try {
    creds = openCredentials(keyRing, row.name, stored);
  } catch (e) {
    return { error: new ClusterCredentialsError(row.name, (e as Error).message) };
  }
  const target: ClusterTarget = {
    name: row.name,
    labels: Object.freeze({ ...(meta.labels ?? {}) }),
    server: String(spec["server"]),
    insecureSkipTLSVerify: spec["insecureSkipTLSVerify"] === true,
  };
  if (typeof spec["caData"] === "string")
    target.caPem = Buffer.from(spec["caData"], "base64").toString("utf8");
  if ((body["status"] as Record<string, unknown> | undefined)?.["impersonator"] !== undefined)
    target.controllerUser = IMPERSONATOR.controllerUser;
  if ("token" in creds) target.token = creds.token;
  else {
    target.clientCertPem = Buffer.from(creds.clientCertificateData, "base64").toString("utf8");
    target.clientKeyPem = Buffer.from(creds.clientKeyData, "base64").toString("utf8");
  }
  return { target: Object.freeze(target) };
}
