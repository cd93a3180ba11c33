import type { Router } from "../router.js";
import type { Store } from "../../store/index.js";
import type { ServerMetrics } from "../metrics.js";
import { writeJSON, writeText } from "../respond.js";
import { VERSION } from "../../version.js";

/** Probes as kube-apiserver serves them (plain "ok"), Prometheus metrics, and the version. */
export function addHealthRoutes(router: Router, deps: { store: Store; metrics: ServerMetrics }): void {
  router.add("GET", "/healthz", async (ctx) => writeText(ctx.res, 200, "ok"));
  router.add("GET", "/livez", async (ctx) => writeText(ctx.res, 200, "ok"));
  router.add("GET", "/readyz", async (ctx) => {
    try {
      await deps.store.ping();
      writeText(ctx.res, 200, "ok");
    } catch (e) {
      ctx.log.warn({ err: e }, "readiness check failed: store unavailable");
      writeText(ctx.res, 503, "[-]store failed: the Gatehouse store is unavailable\nreadyz check failed");
    }
  });
  router.add("GET", "/version", async (ctx) => writeJSON(ctx.res, 200, { gatehouse: VERSION }));
  router.add("GET", "/metrics", async (ctx) => {
    const body = await deps.metrics.registry.metrics();
    ctx.res.statusCode = 200;
    ctx.res.setHeader("Content-Type", deps.metrics.registry.contentType);
    ctx.res.end(body);
  });
}
