/**
 * A minimal Kubernetes API client over node:https for one ClusterConnection: GET and POST of JSON,
 * and lists that follow `continue` tokens. Every failure is a KubeApiError: `http` with the code and
 * the Status the server sent, `network` when no answer came, `decode` when the answer was not JSON.
 */
import http from "node:http";
import https from "node:https";
import type { Status } from "../core/k8s/status.js";
import type { ClusterConnection } from "./kubeconfig.js";

export type KubeApiErrorKind = "http" | "network" | "decode";

export class KubeApiError extends Error {
  constructor(
    readonly kind: KubeApiErrorKind,
    message: string,
    /** The HTTP status code, for kind "http". */
    readonly httpCode?: number,
    /** The meta/v1 Status the server answered with, when it sent one. */
    readonly status?: Status,
  ) {
    super(message);
    this.name = "KubeApiError";
  }
}

export interface KubeClientOptions {
  /** Per-request timeout; default 30 s. */
  timeoutMs?: number;
  /** Page size for list(); default 500. */
  pageSize?: number;
  userAgent?: string;
}

export interface ListResult<T> {
  items: T[];
  resourceVersion?: string;
}

export class KubeClient {
  private readonly agent: http.Agent;
  private readonly base: URL;
  private readonly timeoutMs: number;
  private readonly pageSize: number;
  private readonly userAgent: string;

  constructor(
    private readonly conn: ClusterConnection,
    opts: KubeClientOptions = {},
  ) {
    this.base = new URL(conn.server);
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.pageSize = opts.pageSize ?? 500;
    this.userAgent = opts.userAgent ?? "gatehouse";
    this.agent =
      this.base.protocol === "http:"
        ? new http.Agent({ keepAlive: true })
        : new https.Agent({
            keepAlive: true,
            ...(conn.caPem !== undefined ? { ca: conn.caPem } : {}),
            ...(conn.clientCertPem !== undefined ? { cert: conn.clientCertPem } : {}),
            ...(conn.clientKeyPem !== undefined ? { key: conn.clientKeyPem } : {}),
            ...(conn.tlsServerName !== undefined ? { servername: conn.tlsServerName } : {}),
            rejectUnauthorized: !conn.insecureSkipTLSVerify,
          });
  }

  getJSON<T = unknown>(path: string): Promise<T> {
    return this.request<T>("GET", path);
  }

  postJSON<T = unknown>(path: string, body: unknown): Promise<T> {
    return this.request<T>("POST", path, body);
  }

  /** Any method (PUT, PATCH, DELETE...) with an optional JSON body; the answer parsed as JSON. */
  requestJSON<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    return this.request<T>(method, path, body);
  }

  /** GET a plain-text endpoint such as /readyz; non-2xx answers fail as for JSON. */
  getText(path: string): Promise<string> {
    return this.request<string>("GET", path, undefined, "text");
  }

  /** GET a collection page by page (limit/continue) and return every item. */
  async list<T = unknown>(path: string): Promise<ListResult<T>> {
    const items: T[] = [];
    let token = "";
    let resourceVersion: string | undefined;
    do {
      const sep = path.includes("?") ? "&" : "?";
      const q = `limit=${this.pageSize}${token ? `&continue=${encodeURIComponent(token)}` : ""}`;
      const page = await this.getJSON<{
        items?: T[];
        metadata?: { continue?: string; resourceVersion?: string };
      }>(`${path}${sep}${q}`);
      items.push(...(page.items ?? []));
      token = page.metadata?.continue ?? "";
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
    } while (token !== "");
    return resourceVersion !== undefined ? { items, resourceVersion } : { items };
  }

  /** Close idle keep-alive connections. */
  close(): void {
    this.agent.destroy();
  }

  private url(path: string): URL {
    const u = new URL(this.base.toString());
    const [p = "", q] = path.split("?", 2);
    u.pathname = `${u.pathname.replace(/\/+$/, "")}${p.startsWith("/") ? p : `/${p}`}`;
    u.search = q !== undefined ? `?${q}` : "";
    return u;
  }

  private request<T>(method: string, path: string, body?: unknown, as: "json" | "text" = "json"): Promise<T> {
    const u = this.url(path);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string> = { Accept: "application/json", "User-Agent": this.userAgent };
    if (this.conn.token !== undefined) headers["Authorization"] = `Bearer ${this.conn.token}`;
    if (this.conn.impersonateUser !== undefined) headers["Impersonate-User"] = this.conn.impersonateUser;
    if (payload) {
      headers["Content-Type"] = "application/json";
      headers["Content-Length"] = String(payload.length);
    }
    const mod = u.protocol === "http:" ? http : https;
    return new Promise<T>((resolvePromise, reject) => {
      const req = mod.request(u, { method, headers, agent: this.agent, timeout: this.timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", (e) => reject(new KubeApiError("network", `${method} ${u.pathname}: ${e.message}`)));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          const code = res.statusCode ?? 0;
          let parsed: unknown;
          try {
            parsed = text === "" ? undefined : JSON.parse(text);
          } catch {
            parsed = undefined;
          }
          if (code < 200 || code >= 300) {
            const status = isStatus(parsed) ? parsed : undefined;
            const msg = status?.message ?? (text.trim().slice(0, 200) || res.statusMessage || "");
            reject(new KubeApiError("http", `${method} ${u.pathname}: ${code} ${msg}`, code, status));
            return;
          }
          if (as === "text") resolvePromise(text as T);
          else if (parsed === undefined)
            reject(new KubeApiError("decode", `${method} ${u.pathname}: response is not JSON`, code));
          else resolvePromise(parsed as T);
        });
      });
      req.setNoDelay(true); // no Nagle wait for a delayed ACK, as every request to a cluster
      req.on("timeout", () => req.destroy(new Error(`timed out after ${this.timeoutMs} ms`)));
      req.on("error", (e) => reject(new KubeApiError("network", `${method} ${u.toString()}: ${e.message}`)));
      if (payload) req.write(payload);
      req.end();
    });
  }
}

function isStatus(v: unknown): v is Status {
  return typeof v === "object" && v !== null && (v as { kind?: unknown }).kind === "Status";
}
