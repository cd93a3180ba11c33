import { createServer, type Server } from "node:https";
import { ServerResponse, type IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { Handler, RequestContext } from "./context.js";

export interface HttpsOptions {
  host: string;
  port: number;
  certPem: string;
  keyPem: string;
  /** Largest request header block, bytes. */
  maxHeaderSize?: number;
}

export interface RunningServer {
  /** https://HOST:PORT as clients reach it (the real port when 0 was asked for). */
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Listen with TLS and hand every request to the pipeline. A port in use or a host that cannot be
 * bound rejects with the listen error, so the CLI can say what to do.
 */
export async function listen(
  opts: HttpsOptions,
  handler: Handler,
  log: Logger,
  now: () => number,
): Promise<RunningServer> {
  const server: Server = createServer(
    {
      cert: opts.certPem,
      key: opts.keyPem,
      minVersion: "TLSv1.2",
      maxHeaderSize: opts.maxHeaderSize ?? 32 * 1024,
      requestTimeout: 0,
      headersTimeout: 30_000,
    },
    (req, res) => dispatch(req, res, undefined),
  );
  // HTTP/1.1 upgrades (exec, attach, port-forward) run through the same pipeline: a response object
  // bound to the raw socket lets every filter answer errors as usual.
  const upgraded = new Set<Duplex>();
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
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
    const requestId = randomUUID();
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "https://gatehouse.invalid");
    } catch {
      res.statusCode = 400;
      res.end();
      return;
    }
    const rawPath = (req.url ?? "/").split("?")[0] ?? "/";
    const ctx: RequestContext = {
      req,
      res,
      url,
      rawPath,
      requestId,
      receivedAt: now(),
      log: log.child({ requestId }),
      route: "unmatched",
      ...(upgrade ? { upgrade } : {}),
    };
    res.setHeader("Audit-Id", requestId);
    handler(ctx).catch((e: unknown) => {
      ctx.log.error({ err: e }, "unhandled error in pipeline");
      if (!res.headersSent) res.statusCode = 500;
      res.end();
    });
  }
  // Malformed HTTP never reaches the pipeline: too-large headers are a 431, anything else a 400, and
  // the connection is closed (so nothing smuggled after a bad request is read as another request).
  server.on("clientError", (err: NodeJS.ErrnoException, socket) => {
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
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const s of upgraded) s.destroy();
      }),
  };
}
