import type { Logger } from "pino";
import type { KeyRing } from "../secrets/index.js";
import type { Store } from "../store/index.js";
import { StoreError } from "../store/index.js";
import { KubeApiError, KubeClient } from "./kube-client.js";
import { CLUSTER_KIND, type ClusterRegistry, type ClusterStatus, type ClusterTarget } from "./types.js";
import type { ObservableClusterRegistry } from "./registry.js";
import { createTokenRenewer, renewalAdvice, type RenewalOutcome } from "./renewal.js";

export interface HealthCheckOptions {
  /** Time between rounds. */
  intervalMs: number;
  log: Logger;
  now?: () => number;
  /** Per request to a cluster; default 5 s. */
  timeoutMs?: number;
  /** Clusters checked at the same time; default 4. */
  concurrency?: number;
  /**
   * With the key ring, each round first renews impersonator tokens that are two thirds through their
   * lifetime (src/clusters/renewal.ts); a failed renewal is added to the health message and logged.
   */
  keyRing?: KeyRing;
  /** After a failed renewal, wait this long before asking that cluster again; default 5 min. */
  renewalRetryMs?: number;
  /** Told of each renewed token after it is stored (for the audit log); must not throw. */
  onRenewed?: (cluster: string, expirationTimestamp: string) => Promise<void>;
}

export interface HealthResult {
  ready: boolean;
  message: string;
  kubernetesVersion?: string;
}

const WRITE_ATTEMPTS = 5;

/**
 * Check every registered cluster now and then every `intervalMs`: GET /readyz and /version with the
 * stored credential (both are public-info endpoints every authenticated user may read, so the
 * impersonate-only service account can), and write `status.health` and `status.kubernetesVersion`
 * with optimistic updates that leave everything else as read. Given the key ring, each cluster's
 * impersonator token is first renewed when it is due (renewal.ts). A registry that can be observed also
 * triggers a round shortly after each write through the API, so a new cluster shows its health at
 * once. Returns a function that stops the checks and waits for a running round.
 */
export function startHealthChecks(
  registry: ClusterRegistry | ObservableClusterRegistry,
  store: Store,
  opts: HealthCheckOptions,
): () => Promise<void> {
  const now = opts.now ?? Date.now;
  const renewer =
    opts.keyRing &&
    createTokenRenewer(store, opts.keyRing, {
      now,
      timeoutMs: opts.timeoutMs ?? 5000,
      ...(opts.renewalRetryMs !== undefined ? { retryMs: opts.renewalRetryMs } : {}),
    });
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  let kick: NodeJS.Timeout | undefined;

  const round = async (): Promise<void> => {
    const rows = await listAll(store);
    await forEachLimit(rows, opts.concurrency ?? 4, async (name) => {
      let target: ClusterTarget | undefined;
      let result: HealthResult;
      let renewal: RenewalOutcome | undefined;
      try {
        if (renewer) {
          renewal = await renewer.renew(name);
          if (renewal.kind === "renewed") {
            opts.log.info(
              { cluster: name, expirationTimestamp: renewal.expirationTimestamp },
              "renewed the cluster's impersonator token",
            );
            registry.invalidate(); // the gateway takes the new token at once
            await opts.onRenewed?.(name, renewal.expirationTimestamp);
          }
        }
        target = await registry.get(name);
        if (!target) return; // removed meanwhile
        result = await checkCluster(target, opts.timeoutMs ?? 5000);
      } catch (e) {
        result = { ready: false, message: (e as Error).message };
      }
      if (renewal?.kind === "failed") {
        const problem = renewalProblem(name, renewal, now());
        opts.log.warn({ cluster: name }, problem);
        result = { ...result, message: `${result.message}; ${problem}` };
      }
      if (stopped) return;
      await writeHealth(store, name, target?.server, result, new Date(now()).toISOString());
    });
  };

  const run = (): void => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = round()
      .catch((e: unknown) => opts.log.warn({ err: e }, "cluster health round failed"))
      .finally(() => {
        running = undefined;
        if (again) {
          again = false;
          run();
        }
      });
  };

  const timer = setInterval(run, opts.intervalMs);
  timer.unref();
  const unsubscribe =
    "onInvalidate" in registry
      ? registry.onInvalidate(() => {
          if (kick) clearTimeout(kick);
          kick = setTimeout(run, 100);
          kick.unref();
        })
      : () => undefined;
  run();

  return async () => {
    stopped = true;
    clearInterval(timer);
    if (kick) clearTimeout(kick);
    unsubscribe();
    await running;
  };
}

/** One health probe of one cluster; never throws. */
export async function checkCluster(target: ClusterTarget, timeoutMs: number): Promise<HealthResult> {
  const client = new KubeClient(
    {
      contextName: target.name,
      server: target.server,
      insecureSkipTLSVerify: target.insecureSkipTLSVerify,
      ...(target.caPem !== undefined ? { caPem: target.caPem } : {}),
      ...(target.token !== undefined ? { token: target.token } : {}),
      ...(target.clientCertPem !== undefined ? { clientCertPem: target.clientCertPem } : {}),
      ...(target.clientKeyPem !== undefined ? { clientKeyPem: target.clientKeyPem } : {}),
    },
    { timeoutMs, userAgent: "gatehouse-health" },
  );
  try {
    let ready: boolean;
    let message: string;
    try {
      const text = (await client.getText("/readyz")).trim();
      ready = text === "ok";
      message = ready ? "ok" : `/readyz answered ${JSON.stringify(text.slice(0, 100))}`;
    } catch (e) {
      return { ready: false, message: describe(e) };
    }
    try {
      const v = await client.getJSON<{ gitVersion?: unknown }>("/version");
      if (typeof v.gitVersion === "string") return { ready, message, kubernetesVersion: v.gitVersion };
    } catch {
      // Version is informative; readiness is what counts.
    }
    return { ready, message };
  } finally {
    client.close();
  }
}

/** A failed renewal as one sentence for the health message and the log: why, when it expires, what to do. */
function renewalProblem(name: string, r: RenewalOutcome & { kind: "failed" }, now: number): string {
  const at = new Date(r.expiresAt).toISOString();
  const when = r.expiresAt <= now ? `it expired at ${at}` : `it expires at ${at}`;
  return `token renewal failed: ${r.message}; ${when}: ${renewalAdvice(name)}`;
}

function describe(e: unknown): string {
  if (e instanceof KubeApiError && e.kind === "http" && e.httpCode === 401)
    return "the cluster rejected the stored credential (401 Unauthorized): it may have expired or been revoked";
  if (e instanceof KubeApiError && e.kind === "http" && e.httpCode === 500)
    return `not ready: ${e.message.replace(/^GET \/readyz: 500 /, "")}`;
  return e instanceof Error ? e.message : String(e);
}

/** Merge the result into the latest stored status, retrying on conflicts; spec and the rest stay as read. */
async function writeHealth(
  store: Store,
  name: string,
  checkedServer: string | undefined,
  result: HealthResult,
  at: string,
): Promise<void> {
  const key = { kind: CLUSTER_KIND, namespace: "", name };
  for (let attempt = 1; attempt <= WRITE_ATTEMPTS; attempt++) {
    const row = await store.objects.get(key);
    if (!row) return;
    const spec = (row.body["spec"] ?? {}) as Record<string, unknown>;
    // The cluster was re-pointed since the check: this result describes the old server.
    if (checkedServer !== undefined && spec["server"] !== checkedServer) return;
    const prev = (row.body["status"] ?? {}) as ClusterStatus;
    const status: ClusterStatus = {
      ...prev,
      ...(result.kubernetesVersion !== undefined ? { kubernetesVersion: result.kubernetesVersion } : {}),
      health: { ready: result.ready, message: result.message, lastChecked: at },
    };
    try {
      await store.objects.update(key, { ...row.body, status }, row.resourceVersion);
      return;
    } catch (e) {
      if (e instanceof StoreError && e.code === "Conflict") continue;
      if (e instanceof StoreError && e.code === "NotFound") return;
      throw e;
    }
  }
}

async function listAll(store: Store): Promise<string[]> {
  const names: string[] = [];
  let cont: string | undefined;
  do {
    const page = await store.objects.list(CLUSTER_KIND, { limit: 500, ...(cont ? { continue: cont } : {}) });
    names.push(...page.items.map((r) => r.name));
    cont = page.continue;
  } while (cont !== undefined);
  return names;
}

async function forEachLimit<T>(
  items: readonly T[],
  limit: number,
  f: (t: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await f(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
