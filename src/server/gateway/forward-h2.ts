import { constants, type IncomingHttpHeaders, type OutgoingHttpHeaders } from "node:http2";
import { writeStatus } from "../respond.js";
import { downstreamHeaders, upstreamHeaders } from "./headers.js";
import type { H2Pools } from "./upstream-h2.js";
import type { ForwardInput } from "./forward.js";
import { unavailable } from "./client-status.js";

/**
 * forward() for long-running requests over a pooled HTTP/2 session to the cluster: same headers
 * (client identity removed, impersonation set), same streaming, same failure answers. Closing the
 * client cancels the stream (RST_STREAM CANCEL), which ends the watch at the cluster.
 */
export function forwardH2(f: ForwardInput, h2: H2Pools): Promise<void> {
  return new Promise((resolve) => {
    const url = f.pools.urlOf(f.cluster);
    const headers: OutgoingHttpHeaders = upstreamHeaders(f.req.headers, f.user, f.auditId, {
      upgrade: false,
      clientIp: f.req.socket.remoteAddress ?? "",
    });
    if (f.cluster.token) headers["authorization"] = `Bearer ${f.cluster.token}`;
    headers[":method"] = f.req.method ?? "GET";
    headers[":path"] = url.basePath + f.requestURI;
    const { session, release } = h2.acquire(f.cluster, f.pools.fingerprint(f.cluster));
    let answered = false;
    let finished = false;
    const done = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      release();
      resolve();
    };
    const fail = (why: string): void => {
      if (!answered) {
        f.log().warn({ cluster: f.cluster.name, err: why }, "cluster unavailable");
        writeStatus(f.res, unavailable(f.cluster.name, why));
      } else f.res.destroy();
      done();
    };
    let st: ReturnType<typeof session.request>;
    try {
      st = session.request(headers, { endStream: f.body === undefined && !hasBody(f.req.headers) });
    } catch (e) {
      fail((e as NodeJS.ErrnoException).code ?? (e as Error).message);
      return;
    }
    const timer = setTimeout(() => {
      if (answered) return;
      st.close(constants.NGHTTP2_CANCEL);
      fail(`no response within ${f.responseTimeoutMs} ms`);
    }, f.responseTimeoutMs);
    st.on("response", (h: IncomingHttpHeaders) => {
      answered = true;
      clearTimeout(timer);
      const status = Number(h[":status"] ?? 502);
      const out: IncomingHttpHeaders = {};
      for (const [k, v] of Object.entries(h)) if (k.charCodeAt(0) !== 0x3a /* : */) out[k] = v;
      f.res.writeHead(status, downstreamHeaders(out));
      f.res.flushHeaders();
      st.pipe(f.res);
    });
    st.on("end", done);
    st.on("close", () => {
      if (!answered) fail(st.rstCode ? `stream reset (${st.rstCode})` : "stream closed");
      else if (!f.res.writableEnded) f.res.end();
      done();
    });
    st.on("error", (e: NodeJS.ErrnoException) => fail(e.code ?? e.message));
    // The client went away: cancel the stream (the watch or log follow ends at the cluster).
    f.res.on("close", () => {
      if (!f.res.writableFinished && !st.closed) st.close(constants.NGHTTP2_CANCEL);
      done();
    });
    if (f.body) st.end(f.body);
    else if (hasBody(f.req.headers)) f.req.pipe(st);
  });
}

function hasBody(h: IncomingHttpHeaders): boolean {
  return (
    (h["content-length"] !== undefined && h["content-length"] !== "0") || h["transfer-encoding"] !== undefined
  );
}
