import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export interface ServerMetrics {
  registry: Registry;
  requests: Counter<"method" | "route" | "code">;
  duration: Histogram<"method" | "route" | "code">;
}

/** A registry of our own (no global default), so several servers in one test process do not collide. */
export function createMetrics(): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "gatehouse_" });
  return {
    registry,
    requests: new Counter({
      name: "gatehouse_http_requests_total",
      help: "HTTP requests served, by method, route and status code",
      labelNames: ["method", "route", "code"],
      registers: [registry],
    }),
    duration: new Histogram({
      name: "gatehouse_http_request_duration_seconds",
      help: "HTTP request latency, by method, route and status code",
      labelNames: ["method", "route", "code"],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
  };
}
