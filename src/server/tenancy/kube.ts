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
  const base = new URL(t.server);
  const url = new URL(base.toString());
  const [p = "", q] = pathAndQuery.split("?", 2);
  url.pathname = `${url.pathname.replace(/\/+$/, "")}${p}`;
  url.search = q !== undefined ? `?${q}` : "";
  const headers: Record<string, string> = { Accept: accept, "User-Agent": "gatehouse-tenancy" };
  if (t.token) headers["Authorization"] = `Bearer ${t.token}`;
  if (t.controllerUser) headers["Impersonate-User"] = t.controllerUser;
  const mod = url.protocol === "http:" ? http : https;
  return new Promise((resolve, reject) => {
    const req = mod.request(
      url,
      {
        method,
        headers,
        timeout: timeoutMs,
        ...(url.protocol === "https:"
          ? {
              ...(t.caPem ? { ca: t.caPem } : {}),
              ...(t.clientCertPem ? { cert: t.clientCertPem } : {}),
              ...(t.clientKeyPem ? { key: t.clientKeyPem } : {}),
              rejectUnauthorized: !t.insecureSkipTLSVerify,
            }
          : {}),
      },
      (res) => {
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
      },
    );
    req.on("timeout", () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end();
  });
}
