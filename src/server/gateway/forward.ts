import { request as httpsRequest } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { UserInfo } from "../../core/k8s/index.js";
import { writeStatus } from "../respond.js";
import { downstreamHeaders, upstreamHeaders } from "./headers.js";
import type { UpstreamPools } from "./upstream.js";
import { forwardH2 } from "./forward-h2.js";
import { clientGone, unavailable } from "./client-status.js";
import type { ClusterTarget } from "../../clusters/types.js";

export interface ForwardInput {
  req: IncomingMessage;
  res: ServerResponse;
  cluster: ClusterTarget;
  requestURI: string;
  user: UserInfo;
  auditId: string;
  /** The request's logger, made on first use (a pino child per request costs more than it saves). */
  log: () => Logger;
  pools: UpstreamPools;
  /** How long to wait for the cluster's response headers; watches then stream without limit. */
  responseTimeoutMs: number;
  /** A body already read (and inspected) by the gateway; otherwise the client's body is streamed. */
  body?: Buffer;
  /** Watch, logs -f and other streams: no response timeout, and a pool without a socket cap. */
  longRunning: boolean;
}

/**
 * Forward one plain (non-upgrade) request and stream the answer back chunk by chunk: watches and
 * `logs -f` reach the client as the cluster sends them. Closing either side closes the other.
 */
export function forward(f: ForwardInput): Promise<void> {
  if (clientGone(f.res)) return Promise.resolve();
  if (f.longRunning && f.pools.h2) return forwardH2(f, f.pools.h2);
  return new Promise((resolve) => {
    const url = f.pools.urlOf(f.cluster);
    const headers = upstreamHeaders(f.req.headers, f.user, f.auditId, {
      upgrade: false,
      clientIp: f.req.socket.remoteAddress ?? "",
    });
    if (f.cluster.token) headers["authorization"] = `Bearer ${f.cluster.token}`;
    const up = httpsRequest({
      protocol: "https:",
      hostname: url.hostname,
      port: url.port,
      method: f.req.method ?? "GET",
      path: url.basePath + f.requestURI,
      headers,
      agent: f.pools.agentFor(f.cluster, f.longRunning),
      servername: url.servername,
    });
    // No Nagle delay (an Agent's sockets do not get TCP_NODELAY from its options): a body written
    // after the headers, or the end of an answer, must not wait for the cluster's delayed ACK.
    up.setNoDelay(true);
    let answered = false;
    const timer = setTimeout(() => {
      if (!answered) up.destroy(new Error(`no response within ${f.responseTimeoutMs} ms`));
    }, f.responseTimeoutMs);
    up.on("response", (upRes) => {
      answered = true;
      clearTimeout(timer);
      // The client left while the cluster answered: drop the answer and the connection with it
      // (piping into a closed stream would hold the pooled socket forever).
      if (clientGone(f.res)) {
        up.destroy();
        resolve();
        return;
      }
      f.res.writeHead(upRes.statusCode ?? 502, downstreamHeaders(upRes.headers));
      // A stream's headers go out at once (kubectl waits for them before the first event); a short
      // answer's headers leave with its body, in one write.
      if (f.longRunning) f.res.flushHeaders();
      upRes.pipe(f.res);
      upRes.on("end", resolve);
      upRes.on("error", () => {
        f.res.destroy();
        resolve();
      });
    });
    up.on("error", (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (!answered) {
        f.log().warn({ cluster: f.cluster.name, err: e.code ?? e.message }, "cluster unavailable");
        writeStatus(f.res, unavailable(f.cluster.name, e.code ?? e.message));
      } else f.res.destroy();
      resolve();
    });
    // The client went away: stop the upstream request or stream (watch, logs -f) too.
    f.res.on("close", () => {
      if (!f.res.writableFinished) up.destroy();
      resolve();
    });
    if (f.body) {
      up.setHeader("content-length", f.body.length);
      up.end(f.body);
    } else f.req.pipe(up);
  });
}
