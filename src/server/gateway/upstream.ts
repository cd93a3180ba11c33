import { Agent } from "node:https";
import { createHash } from "node:crypto";
import type { ClusterTarget } from "../../clusters/types.js";
import { H2Pools } from "./upstream-h2.js";

/**
 * Keep-alive connection pools per cluster, keyed by the cluster's connection details so that a
 * changed credential or CA gets a fresh pool. Long-running requests (watch, logs -f) hold their
 * connection for as long as they stream, so they get a pool of their own without a socket cap: a
 * thousand open watches must not queue every short request behind them.
 */
export class UpstreamPools {
  private readonly pools = new Map<string, { fingerprint: string; agent: Agent }>();
  /** Registry targets are frozen and replaced on change: hash each one's connection details once. */
  private readonly fingerprints = new WeakMap<ClusterTarget, string>();

  /** HTTP/2 sessions for long-running requests (upstream-h2.ts); absent when turned off. */
  readonly h2: H2Pools | undefined;

  constructor(
    private readonly opts: {
      connectTimeoutMs: number;
      maxSockets: number;
      /** Watches and logs -f over pooled HTTP/2 sessions (default true). */
      http2LongRunning?: boolean;
    },
  ) {
    this.h2 =
      opts.http2LongRunning === false
        ? undefined
        : new H2Pools({ connectTimeoutMs: opts.connectTimeoutMs, maxStreamsPerSession: 250 });
  }

  /** A hash of the target's connection details: a changed server, CA or credential gets new pools. */
  fingerprint(c: ClusterTarget): string {
    let fingerprint = this.fingerprints.get(c);
    if (fingerprint === undefined) {
      fingerprint = this.fingerprintOf(c);
      this.fingerprints.set(c, fingerprint);
    }
    return fingerprint;
  }

  agentFor(c: ClusterTarget, longRunning = false): Agent {
    const key = longRunning ? `${c.name}\u0000long` : c.name;
    const fingerprint = this.fingerprint(c);
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

  /** The parsed server URL of a target (cached per target object). */
  urlOf(c: ClusterTarget): { hostname: string; port: string | number; basePath: string; servername: string } {
    let u = this.urls.get(c);
    if (!u) {
      const url = new URL(c.server);
      u = {
        hostname: url.hostname,
        port: url.port || 443,
        basePath: url.pathname.replace(/\/$/, ""),
        servername: /^[\d.]+$|:/.test(url.hostname) ? "" : url.hostname,
      };
      this.urls.set(c, u);
    }
    return u;
  }

  private readonly urls = new WeakMap<
    ClusterTarget,
    { hostname: string; port: string | number; basePath: string; servername: string }
  >();

  private fingerprintOf(c: ClusterTarget): string {
    return createHash("sha256")
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
  }

  close(): void {
    for (const p of this.pools.values()) p.agent.destroy();
    this.pools.clear();
    this.h2?.close();
  }
}
