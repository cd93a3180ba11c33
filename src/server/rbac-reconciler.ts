import type { Logger } from "pino";
import { controllerClient } from "../clusters/controller-client.js";
import { syncRbac, type SyncResult } from "../clusters/rbac-sync.js";
import type { AccessEvaluator } from "./gateway/access.js";
import type { ClusterRegistry } from "../clusters/types.js";

export interface RbacReconciler {
  /** Reconcile soon (debounced): after any change to teams, roles, bindings or clusters. */
  trigger(): void;
  /** Reconcile every cluster now and report what each needed. */
  runOnce(): Promise<Map<string, SyncResult | { error: string }>>;
  stop(): void;
}

/**
 * Keeps every cluster's Gatehouse-managed RBAC equal to what the access bindings say, so the cluster's
 * own RBAC (the second gate behind central authorization) agrees: on change, and every interval to
 * repair drift (someone editing or deleting the objects in the cluster).
 */
export function startRbacReconciler(deps: {
  registry: ClusterRegistry;
  access: AccessEvaluator;
  log: Logger;
  intervalMs: number;
}): RbacReconciler {
  let running: Promise<Map<string, SyncResult | { error: string }>> | undefined;
  let again = false;
  let debounce: NodeJS.Timeout | undefined;

  const runOnce = async (): Promise<Map<string, SyncResult | { error: string }>> => {
    if (running) {
      again = true;
      await running;
    }
    running = (async () => {
      const results = new Map<string, SyncResult | { error: string }>();
      for (const t of await deps.registry.list()) {
        const client = controllerClient(t, "gatehouse-rbac-sync");
        try {
          const r = await syncRbac(client, await deps.access.desiredFor({ name: t.name, labels: t.labels }));
          results.set(t.name, r);
          const changed =
            r.plan.create.length + r.plan.update.length + r.plan.recreate.length + r.plan.delete.length;
          if (changed > 0 || r.failures.length > 0)
            deps.log.info(
              {
                cluster: t.name,
                created: r.plan.create.length,
                updated: r.plan.update.length + r.plan.recreate.length,
                deleted: r.plan.delete.length,
                failures: r.failures,
              },
              "rbac sync",
            );
        } catch (e) {
          results.set(t.name, { error: (e as Error).message });
          deps.log.warn({ cluster: t.name, err: (e as Error).message }, "rbac sync failed");
        } finally {
          client.close();
        }
      }
      return results;
    })();
    try {
      return await running;
    } finally {
      running = undefined;
      if (again) {
        again = false;
        void runOnce();
      }
    }
  };
  const timer = setInterval(() => void runOnce(), deps.intervalMs);
  timer.unref();
  return {
    trigger() {
      clearTimeout(debounce);
      debounce = setTimeout(() => void runOnce(), 200);
      debounce.unref();
    },
    runOnce,
    stop() {
      clearInterval(timer);
      clearTimeout(debounce);
    },
  };
}
