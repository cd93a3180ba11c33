import { Agent } from "node:https";
import { createHash } from "node:crypto";
import type { ClusterTarget } from "../../clusters/types.js";

/**
 * One keep-alive connection pool per cluster, keyed by the cluster's connection details so that a
 * changed credential or CA gets a fresh pool.
 */
export class UpstreamPools {
  private readonly pools = new Map<string, { fingerprint: string; agent: Agent }>();

  constructor(private readonly opts: { connectTimeoutMs: number; maxSockets: number }) {}

  agentFor(c: ClusterTarget): Agent {
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
    const cur = this.pools.get(c.name);
    if (cur && cur.fingerprint === fingerprint) return cur.agent;
    cur?.agent.destroy();
    const agent = new Agent({
      keepAlive: true,
      maxSockets: this.opts.maxSockets,
      timeout: this.opts.connectTimeoutMs,
      rejectUnauthorized: !c.insecureSkipTLSVerify,
      ...(c.caPem ? { ca: c.caPem } : {}),
      ...(c.clientCertPem && c.clientKeyPem ? { cert: c.clientCertPem, key: c.clientKeyPem } : {}),
    });
    this.pools.set(c.name, { fingerprint, agent });
    return agent;
  }

  close(): void {
    for (const p of this.pools.values()) p.agent.destroy();
    this.pools.clear();
  }
}
