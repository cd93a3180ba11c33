import type { Filter } from "../context.js";
import type { ServerMetrics } from "../metrics.js";

/** Count and time every request by route label (never by raw path) and status code. */
export function withMetrics(metrics: ServerMetrics): Filter {
  return (next) => async (ctx) => {
    const end = metrics.duration.startTimer();
    try {
      await next(ctx);
    } finally {
      const labels = { method: ctx.req.method ?? "", route: ctx.route, code: String(ctx.res.statusCode) };
      end(labels);
      metrics.requests.inc(labels);
    }
  };
}
