import http from "node:http";
import https from "node:https";
import type { KubeClient } from "../../clusters/kube-client.js";
import { controllerClient } from "../../clusters/controller-client.js";
import type { ClusterTarget } from "../../clusters/types.js";

/** A client for a cluster with Gatehouse's own registered credential (never a caller's identity). */
export function gatehouseClient(t: ClusterTarget, userAgent = "gatehouse-tenancy"): KubeClient {
  return controllerClient(t, userAgent);
}

export interface RawReply {
  status: number;
  contentType: string;
  body: Buffer;
}

/**
 * One request with Gatehouse's credential whose answer is relayed to a client byte for byte (the
 * namespace list in whatever form kubectl asked for: JSON, Table, protobuf).
 */
export function rawRequest(
  t: ClusterTarget,
  method: string,
  pathAndQuery: string,
  accept: string,
  timeoutMs = 30_000,
): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const req = send(t, method, pathAndQuery, accept, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 502,
          contentType: String(res.headers["content-type"] ?? "application/json"),
          body: Buffer.concat(chunks),
        }),
      );
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end();
  });
}

/**
 * A GET with Gatehouse's credential whose answer is a stream (a watch): resolves with the response
 * once its headers arrived (within `headerTimeoutMs`), after which there is no time limit; `close()`
 * ends it. The caller reads and judges every byte before relaying anything.
 */
export function openStream(
  t: ClusterTarget,
  pathAndQuery: string,
  accept: string,
  headerTimeoutMs = 30_000,
): Promise<{ res: http.IncomingMessage; close: () => void }> {
  return new Promise((resolve, reject) => {
    const req = send(t, "GET", pathAndQuery, accept, (res) => {
      clearTimeout(timer);
      resolve({ res, close: () => req.destroy() });
    });
    const timer = setTimeout(
      () => req.destroy(new Error(`no answer within ${headerTimeoutMs} ms`)),
      headerTimeoutMs,
    );
    req.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.end();
  });
}

function send(
  t: ClusterTarget,
  method: string,
  pathAndQuery: string,
  accept: string,
  onResponse: (res: http.IncomingMessage) => void,
): http.ClientRequest {
  const base = new URL(t.server);
  const url = new URL(base.toString());
  const [p = "", q] = pathAndQuery.split("?", 2);
  url.pathname = `${url.pathname.replace(/\/+$/, "")}${p}`;
  url.search = q !== undefined ? `?${q}` : "";
  const headers: Record<string, string> = { Accept: accept, "User-Agent": "gatehouse-tenancy" };
  if (t.token) headers["Authorization"] = `Bearer ${t.token}`;
  if (t.controllerUser) headers["Impersonate-User"] = t.controllerUser;
  const mod = url.protocol === "http:" ? http : https;
  const req = mod.request(
    url,
    {
      method,
      headers,
      ...(url.protocol === "https:"
        ? {
            ...(t.caPem ? { ca: t.caPem } : {}),
            ...(t.clientCertPem ? { cert: t.clientCertPem } : {}),
            ...(t.clientKeyPem ? { key: t.clientKeyPem } : {}),
            rejectUnauthorized: !t.insecureSkipTLSVerify,
          }
        : {}),
    },
    onResponse,
  );
  req.setNoDelay(true); // as every request to a cluster (gateway/forward.ts)
  return req;
}
