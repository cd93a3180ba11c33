import type { Filter } from "../context.js";
import type { ServerMetrics } from "../metrics.js";

/** Count and time every request by route label (never by raw path) and status code. */
export function withMetrics(metrics: ServerMetrics): Filter {
  return (next) => async (ctx) => {
    // observe() with the labels once, rather than startTimer()'s closure, hrtime pair and label copy.
    const start = performance.now();
    try {
      await next(ctx);
    } finally {
      const labels = { method: ctx.req.method ?? "", route: ctx.route, code: String(ctx.res.statusCode) };
      metrics.duration.observe(labels, (performance.now() - start) / 1000);
      metrics.requests.inc(labels);
    }
  };
}
