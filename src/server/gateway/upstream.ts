import { Agent } from "node:https";
import { createHash } from "node:crypto";
import type { ClusterTarget } from "../../clusters/types.js";

/**
 * Keep-alive connection pools per cluster, keyed by the cluster's connection details so that a
 * changed credential or CA gets a fresh pool. Long-running requests (watch, logs -f) hold their
 * connection for as long as they stream, so they get a pool of their own without a socket cap: a
 * thousand open watches must not queue every short request behind them.
 */
export class UpstreamPools {
  private readonly pools = new Map<string, { fingerprint: string; agent: Agent }>();

  constructor(private readonly opts: { connectTimeoutMs: number; maxSockets: number }) {}

  agentFor(c: ClusterTarget, longRunning = false): Agent {
    const key = longRunning ? `${c.name}\u0000long` : c.name;
    const fingerprint = createHash("sha256")
      .update(
        JSON.stringify([
          c.server,
          c.caPem ?? "",
          c.insecureSkipTLSVerify,
          c.clientCertPem ?? "",
          c.clientKeyPem ?? "",
        ]),
      )
      .digest("hex");
    const cur = this.pools.get(key);
    if (cur && cur.fingerprint === fingerprint) return cur.agent;
    cur?.agent.destroy();
    const agent = new Agent({
      keepAlive: true,
      maxSockets: longRunning ? Infinity : this.opts.maxSockets,
      timeout: this.opts.connectTimeoutMs,
      rejectUnauthorized: !c.insecureSkipTLSVerify,
      ...(c.caPem ? { ca: c.caPem } : {}),
      ...(c.clientCertPem && c.clientKeyPem ? { cert: c.clientCertPem, key: c.clientKeyPem } : {}),
    });
    this.pools.set(key, { fingerprint, agent });
    return agent;
  }

  close(): void {
    for (const p of this.pools.values()) p.agent.destroy();
    this.pools.clear();
  }
}
