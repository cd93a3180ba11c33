import { request as httpsRequest } from "node:https";
import type { Duplex } from "node:stream";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { UserInfo } from "../../core/k8s/index.js";
import { writeStatus } from "../respond.js";
import { downstreamHeaders, upstreamHeaders } from "./headers.js";
import { unavailable } from "./client-status.js";
import type { ClusterTarget } from "../../clusters/types.js";

export interface UpgradeInput {
  req: IncomingMessage;
  res: ServerResponse;
  socket: Duplex;
  head: Buffer;
  cluster: ClusterTarget;
  requestURI: string;
  user: UserInfo;
  auditId: string;
  /** The request's logger, made on first use (a pino child per request costs more than it saves). */
  log: () => Logger;
  timeoutMs: number;
}

/**
 * Proxy an HTTP/1.1 upgrade (SPDY/3.1 or WebSocket: exec, attach, port-forward). Only a 101 from the
 * cluster turns the connection into a tunnel; any other answer is relayed as a response and the
 * connection closed, never followed (CVE-2020-8559).
 */
export function proxyUpgrade(u: UpgradeInput): Promise<void> {
  return new Promise((resolve) => {
    const url = new URL(u.cluster.server);
    const headers = upstreamHeaders(u.req.headers, u.user, u.auditId, {
      upgrade: true,
      clientIp: u.req.socket.remoteAddress ?? "",
    });
    if (u.cluster.token) headers["authorization"] = `Bearer ${u.cluster.token}`;
    const up = httpsRequest({
      protocol: "https:",
      hostname: url.hostname,
      port: url.port || 443,
      method: u.req.method ?? "GET",
      path: url.pathname.replace(/\/$/, "") + u.requestURI,
      headers,
      agent: false,
      rejectUnauthorized: !u.cluster.insecureSkipTLSVerify,
      ...(u.cluster.caPem ? { ca: u.cluster.caPem } : {}),
      ...(u.cluster.clientCertPem && u.cluster.clientKeyPem
        ? { cert: u.cluster.clientCertPem, key: u.cluster.clientKeyPem }
        : {}),
      timeout: u.timeoutMs,
    });
    // Keystrokes and port-forward frames are small writes: none may wait for a delayed ACK.
    up.setNoDelay(true);
    const done = (): void => resolve();
    up.on("timeout", () => up.destroy(new Error(`no response within ${u.timeoutMs} ms`)));
    up.on("upgrade", (upRes, upSocket, upHead) => {
      const lines = [`HTTP/1.1 101 ${upRes.statusMessage || "Switching Protocols"}`];
      const h = downstreamHeaders(upRes.headers);
      h["connection"] = "Upgrade";
      if (upRes.headers["upgrade"]) h["upgrade"] = upRes.headers["upgrade"];
      for (const [k, v] of Object.entries(h)) {
        for (const one of Array.isArray(v) ? v : [String(v)]) lines.push(`${k}: ${one}`);
      }
      u.socket.write(lines.join("\r\n") + "\r\n\r\n");
      if (upHead.length > 0) u.socket.write(upHead);
      if (u.head.length > 0) upSocket.write(u.head);
      upSocket.setTimeout(0);
      u.socket.pipe(upSocket).pipe(u.socket);
      const close = (): void => {
        upSocket.destroy();
        u.socket.destroy();
        done();
      };
      upSocket.on("close", close);
      u.socket.on("close", close);
      upSocket.on("error", close);
      u.socket.on("error", close);
    });
    up.on("response", (upRes) => {
      // The cluster refused the upgrade: pass its answer on, then close. Never keep the connection.
      u.res.writeHead(upRes.statusCode ?? 502, { ...downstreamHeaders(upRes.headers), connection: "close" });
      upRes.pipe(u.res);
      upRes.on("end", () => {
        u.socket.destroy();
        done();
      });
    });
    up.on("error", (e: NodeJS.ErrnoException) => {
      u.log().warn({ cluster: u.cluster.name, err: e.code ?? e.message }, "cluster unavailable for upgrade");
      writeStatus(u.res, unavailable(u.cluster.name, e.code ?? e.message));
      u.res.on("finish", () => u.socket.destroy());
      done();
    });
    up.end();
  });
}
