import { connect, type ClientHttp2Session } from "node:http2";
import type { ClusterTarget } from "../../clusters/types.js";

/**
 * HTTP/2 sessions to the clusters, pooled per cluster, for long-running requests (watch, logs -f).
 * kube-apiserver speaks h2; one TLS connection then carries up to the cluster's
 * SETTINGS_MAX_CONCURRENT_STREAMS watches instead of one connection (and its TLS buffers) per watch,
 * which is most of what an open watch costs the gateway. A session that reaches its stream limit,
 * says GOAWAY, errors or closes is not used for new streams; a new one is opened as needed. Upgrades
 * (exec, attach, port-forward) never come here: h2 has no Upgrade, they stay on HTTP/1.1.
 */
export class H2Pools {
  private readonly pools = new Map<string, { fingerprint: string; sessions: Pooled[] }>();

  constructor(
    private readonly opts: {
      connectTimeoutMs: number;
      /** Streams per session at most, even if the cluster allows more. */
      maxStreamsPerSession: number;
    },
  ) {}

  /** A session to the cluster with room for one more stream; call release() when the stream closes. */
  acquire(c: ClusterTarget, fingerprint: string): { session: ClientHttp2Session; release: () => void } {
    let pool = this.pools.get(c.name);
    if (pool && pool.fingerprint !== fingerprint) {
      for (const p of pool.sessions) p.session.close();
      pool = undefined;
    }
    if (!pool) {
      pool = { fingerprint, sessions: [] };
      this.pools.set(c.name, pool);
    }
    let p = pool.sessions.find((s) => s.usable && s.active < this.limitOf(s));
    if (!p) {
      p = this.open(c, pool.sessions);
      pool.sessions.push(p);
    }
    p.active++;
    const held = p;
    let released = false;
    return {
      session: p.session,
      release: () => {
        if (released) return;
        released = true;
        held.active--;
      },
    };
  }

  private limitOf(p: Pooled): number {
    const remote = p.session.remoteSettings.maxConcurrentStreams ?? 100;
    return Math.min(remote, this.opts.maxStreamsPerSession);
  }

  private open(c: ClusterTarget, list: Pooled[]): Pooled {
    const url = new URL(c.server);
    const session = connect(`${url.protocol}//${url.host}`, {
      rejectUnauthorized: !c.insecureSkipTLSVerify,
      ...(c.caPem ? { ca: c.caPem } : {}),
      ...(c.clientCertPem && c.clientKeyPem ? { cert: c.clientCertPem, key: c.clientKeyPem } : {}),
      ...(/^[\d.]+$|:/.test(url.hostname) ? {} : { servername: url.hostname }),
      // Small windows: a watch's events are small; the default 64 KiB per stream is fine.
      settings: { enablePush: false },
    });
    const p: Pooled = { session, active: 0, usable: true };
    const drop = (): void => {
      p.usable = false;
      const i = list.indexOf(p);
      if (i >= 0) list.splice(i, 1);
    };
    session.on("goaway", drop);
    session.on("close", drop);
    session.on("error", () => {
      drop();
      session.destroy();
    });
    const t = setTimeout(() => {
      if (!session.connecting) return;
      session.destroy(new Error(`no connection within ${this.opts.connectTimeoutMs} ms`));
    }, this.opts.connectTimeoutMs);
    t.unref();
    session.once("connect", () => clearTimeout(t));
    // No pings or timers of our own: an idle session costs nothing but its socket; unref so that an
    // idle pool does not keep the process alive.
    session.unref();
    return p;
  }

  close(): void {
    for (const pool of this.pools.values()) for (const p of pool.sessions) p.session.destroy();
    this.pools.clear();
  }
}

interface Pooled {
  session: ClientHttp2Session;
  active: number;
  usable: boolean;
}
