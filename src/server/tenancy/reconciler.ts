import type { Logger } from "pino";
import type { ClusterRegistry } from "../../clusters/types.js";
import { gatehouseClient } from "./kube.js";
import type { TenancyService } from "./service.js";

export interface TenancyRunResult {
  /** Per space "CLUSTER/NAMESPACE": what was repaired, or the error. */
  spaces: Map<string, string[] | { error: string }>;
  accessChanges: number;
}

export interface TenancyReconciler {
  /** Reconcile soon (debounced): after a Tenant changed. */
  trigger(): void;
  /** Reconcile every space now. */
  runOnce(): Promise<TenancyRunResult>;
  stop(): void;
}

/**
 * Keeps every space as its tenant says (namespace labels, policies, quota, limits, template objects)
 * and the derived access bindings in step: on change and every interval, so objects deleted or
 * edited in a cluster come back. A space whose tenant is gone is left alone (and logged).
 */
export function startTenancyReconciler(deps: {
  service: TenancyService;
  clusters: ClusterRegistry;
  log: Logger;
  intervalMs: number;
}): TenancyReconciler {
  let running: Promise<TenancyRunResult> | undefined;
  let debounce: NodeJS.Timeout | undefined;

  const once = async (): Promise<TenancyRunResult> => {
    const svc = deps.service;
    const tenants = new Map((await svc.spaces.tenants()).map((t) => [t.name, t]));
    const spaces = new Map<string, string[] | { error: string }>();
    for (const s of await svc.spaces.spaces()) {
      const key = `${s.cluster}/${s.namespace}`;
      const tenant = tenants.get(s.tenant);
      const target = await deps.clusters.get(s.cluster);
      if (!tenant || !target) {
        spaces.set(key, {
          error: !tenant ? `tenant ${s.tenant} not found` : `cluster ${s.cluster} not found`,
        });
        continue;
      }
      const client = gatehouseClient(target);
      try {
        const done = await svc.reconcileSpace(client, tenant, s);
        spaces.set(key, done);
        if (done.length > 0)
          deps.log.info({ cluster: s.cluster, namespace: s.namespace, done }, "space repaired");
      } catch (e) {
        spaces.set(key, { error: (e as Error).message });
        deps.log.warn(
          { cluster: s.cluster, namespace: s.namespace, err: (e as Error).message },
          "space reconcile failed",
        );
      } finally {
        client.close();
      }
    }
    const accessChanges = await svc.syncAccess();
    for (const t of tenants.keys()) await svc.spaces.refreshStatus(t);
    return { spaces, accessChanges };
  };

  const runOnce = async (): Promise<TenancyRunResult> => {
    while (running) await running.catch(() => undefined);
    running = once();
    try {
      return await running;
    } finally {
      running = undefined;
    }
  };
  const background = (): void => {
    runOnce().catch((e: unknown) => deps.log.warn({ err: (e as Error).message }, "tenancy reconcile failed"));
  };
  const timer = setInterval(background, deps.intervalMs);
  timer.unref();
  return {
    trigger() {
      clearTimeout(debounce);
      debounce = setTimeout(background, 200);
      debounce.unref();
    },
    runOnce,
    stop() {
      clearInterval(timer);
      clearTimeout(debounce);
    },
  };
}
