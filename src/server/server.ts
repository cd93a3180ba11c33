import { createSecureServer, constants as h2, type Http2SecureServer, type Http2Session } from "node:http2";
import { ServerResponse, type IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { TLSSocket } from "node:tls";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { AuditNotes, Handler, RequestContext } from "./context.js";
import type { UserInfo } from "../core/k8s/index.js";
import { RequestIds } from "./request-id.js";

export interface HttpsOptions {
  host: string;
  port: number;
  certPem: string;
  keyPem: string;
  /** Largest request header block, bytes (HTTP/1.1 head; HTTP/2 header list after decompression). */
  maxHeaderSize?: number;
  /** HTTP/2 streams one client connection may have open at once (kube-apiserver: 100 by default). */
  maxConcurrentStreams?: number;
  /** Offer HTTP/2 in ALPN (default true); HTTP/1.1 is always served on the same port. */
  http2?: boolean;
}

export interface RunningServer {
  /** https://HOST:PORT as clients reach it (the real port when 0 was asked for). */
  url: string;
  port: number;
  /** Requests served so far by protocol ("1.1", "2.0"): the proof that clients used HTTP/2. */
  protocolStats(): Readonly<Record<string, number>>;
  close(): Promise<void>;
}

/** HTTP/2 session limits against header floods and stream abuse (see gateway/README.md). */
export const H2_LIMITS = {
  /** Memory one session may hold for headers, flow-control windows and pending frames, MiB. */
  maxSessionMemoryMiB: 10,
  /** Header fields a peer may send in one block. */
  maxHeaderListPairs: 256,
  /**
   * Resets (RST_STREAM from the client, or streams refused for it) a connection may make in a burst
   * before GOAWAY; the allowance refills at resetsPerSecond (nghttp2's own limiter refills at 33/s).
   */
  resetBurst: 200,
  resetsPerSecond: 33,
} as const;

/**
 * Listen with TLS, HTTP/2 and HTTP/1.1 on one port (ALPN picks), and hand every request to the
 * pipeline. HTTP/1.1 upgrades (exec, attach, port-forward over SPDY or WebSocket) arrive on the
 * "upgrade" event; HTTP/2 has no upgrades (kubectl asks for HTTP/1.1 for those). A port in use or a
 * host that cannot be bound rejects with the listen error, so the CLI can say what to do.
 */
export async function listen(
  opts: HttpsOptions,
  handler: Handler,
  log: Logger,
  now: () => number,
): Promise<RunningServer> {
  const maxHeaderSize = opts.maxHeaderSize ?? 32 * 1024;
  const server: Http2SecureServer = createSecureServer({
    // No Nagle delay on client connections (https.createServer sets this, http2's server does not):
    // with it, the last segment of a large answer could wait for the client's delayed ACK (40 ms).
    noDelay: true,
    cert: opts.certPem,
    key: opts.keyPem,
    minVersion: "TLSv1.2",
    allowHTTP1: true,
    ALPNProtocols: opts.http2 === false ? ["http/1.1"] : ["h2", "http/1.1"],
    maxSessionMemory: H2_LIMITS.maxSessionMemoryMiB,
    maxHeaderListPairs: H2_LIMITS.maxHeaderListPairs,
    settings: {
      maxConcurrentStreams: opts.maxConcurrentStreams ?? 100,
      maxHeaderListSize: maxHeaderSize,
      enablePush: false,
    },
    // Options of the HTTP/1.1 side (passed through to its http.Server).
    ...({ maxHeaderSize, requestTimeout: 0, headersTimeout: 30_000 } as object),
  });
  const stats: Record<string, number> = {};
  const ids = new RequestIds();
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    stats[req.httpVersion] = (stats[req.httpVersion] ?? 0) + 1;
    dispatch(req, res, undefined);
  });
  server.on("session", (session: Http2Session) => guardSession(session, log));

  // HTTP/1.1 upgrades (exec, attach, port-forward) run through the same pipeline: a response object
  // bound to the raw socket lets every filter answer errors as usual.
  const upgraded = new Set<Duplex>();
  const h1Sockets = new Set<Duplex>();
  server.on("secureConnection", (s: TLSSocket) => {
    if (s.alpnProtocol === "h2") return;
    h1Sockets.add(s);
    s.once("close", () => h1Sockets.delete(s));
  });
  const sessions = new Set<Http2Session>();
  server.on("session", (s: Http2Session) => {
    sessions.add(s);
    s.once("close", () => sessions.delete(s));
  });
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    stats[req.httpVersion] = (stats[req.httpVersion] ?? 0) + 1;
    // Tunnels (exec, port-forward) are not the HTTP server's connections any more: track them so that
    // closing the server closes them too.
    upgraded.add(socket);
    socket.once("close", () => upgraded.delete(socket));
    const res = new ServerResponse(req);
    res.assignSocket(socket as Parameters<ServerResponse["assignSocket"]>[0]);
    // An answer other than a tunnel (401, 403, 404, a refused upgrade) ends the connection.
    res.on("finish", () => socket.destroy());
    dispatch(req, res, { socket, head });
  });

  function dispatch(
    req: IncomingMessage,
    res: ServerResponse,
    upgrade: { socket: Duplex; head: Buffer } | undefined,
  ): void {
    const raw = req.url ?? "/";
    const q = raw.indexOf("?");
    const ctx = new Context(ids.next(), req, res, q < 0 ? raw : raw.slice(0, q), now(), log, upgrade);
    res.setHeader("Audit-Id", ctx.requestId);
    handler(ctx).catch((e: unknown) => {
      ctx.log.error({ err: e }, "unhandled error in pipeline");
      if (!res.headersSent) res.statusCode = 500;
      res.end();
    });
  }
  // Malformed HTTP/1.1 never reaches the pipeline: too-large headers are a 431, anything else a 400,
  // and the connection is closed (so nothing smuggled after a bad request is read as another request).
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Duplex) => {
    const status =
      err.code === "HPE_HEADER_OVERFLOW" ? "431 Request Header Fields Too Large" : "400 Bad Request";
    if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const hostForUrl = opts.host.includes(":")
    ? `[${opts.host}]`
    : opts.host === "0.0.0.0"
      ? "127.0.0.1"
      : opts.host;
  return {
    url: `https://${hostForUrl}:${port}`,
    port,
    protocolStats: () => ({ ...stats }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sessions) s.destroy();
        for (const s of h1Sockets) s.destroy();
        for (const s of upgraded) s.destroy();
      }),
  };
}

/**
 * Rapid reset (CVE-2023-44487) and stream abuse: a client that resets (or gets refused) more than
 * resetBurst streams, less what the allowance refilled meanwhile, is sent GOAWAY and its connection
 * is closed. A leaky bucket rather than a count per second: on a busy event loop the resets of one
 * burst reach JavaScript spread over seconds, and a count that starts again every second may never
 * reach the limit. That matters because nghttp2's own limiter (a burst of 1,000) terminates the
 * session first in that case, and Node then only stops reading: the connection would stay open, the
 * guard is what closes it. Concurrent streams are capped by SETTINGS_MAX_CONCURRENT_STREAMS, header
 * blocks by SETTINGS_MAX_HEADER_LIST_SIZE and maxSessionMemory (CONTINUATION floods end in
 * ENHANCE_YOUR_CALM).
 */
function guardSession(session: Http2Session, log: Logger): void {
  let level = 0;
  let last = 0;
  session.on("stream", (stream) => {
    stream.once("close", () => {
      // A stream the client cancelled before we answered it completely.
      if (stream.rstCode === h2.NGHTTP2_NO_ERROR || stream.rstCode === undefined) return;
      const t = Date.now();
      level = Math.max(0, level - ((t - last) / 1000) * H2_LIMITS.resetsPerSecond) + 1;
      last = t;
      if (level > H2_LIMITS.resetBurst && !session.destroyed) {
        log.warn(
          { resets: Math.round(level) },
          "HTTP/2 client reset too many streams: closing the connection",
        );
        session.goaway(h2.NGHTTP2_ENHANCE_YOUR_CALM);
        session.destroy();
      }
    });
  });
  session.on("error", () => session.destroy());
  session.setTimeout(0);
}

/**
 * The per-request context. What most requests never use is made on first use: the parsed URL (only
 * the management API reads the query) and the request's child logger (a pino child costs more than
 * the rest of the context together).
 */
class Context implements RequestContext {
  route = "unmatched";
  user?: UserInfo;
  audit?: AuditNotes;
  private parsedUrl: URL | undefined;
  private childLog: Logger | undefined;
  readonly upgrade?: { socket: Duplex; head: Buffer };

  constructor(
    readonly requestId: string,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly rawPath: string,
    readonly receivedAt: number,
    private readonly baseLog: Logger,
    upgrade: { socket: Duplex; head: Buffer } | undefined,
  ) {
    if (upgrade) this.upgrade = upgrade;
  }

  get url(): URL {
    if (!this.parsedUrl) {
      try {
        this.parsedUrl = new URL(this.req.url ?? "/", "https://gatehouse.invalid");
      } catch {
        this.parsedUrl = new URL("/", "https://gatehouse.invalid");
      }
    }
    return this.parsedUrl;
  }

  /** The request's logger: request id, and the user once authenticated. */
  get log(): Logger {
    this.childLog ??= this.baseLog.child({
      requestId: this.requestId,
      ...(this.user ? { user: this.user.username } : {}),
    });
    return this.childLog;
  }

  set log(l: Logger) {
    this.childLog = l;
  }
}
