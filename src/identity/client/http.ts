import { request } from "node:https";

export interface Endpoint {
  /** https://HOST[:PORT] of Gatehouse. */
  server: string;
  /** PEM of the CA that signed Gatehouse's certificate; absent = the system's trust store. */
  caPem?: string;
  insecureSkipTlsVerify?: boolean;
}

export interface JsonReply {
  status: number;
  body: Record<string, unknown>;
}

/** Failure to reach the server at all (exit code 3 at the CLI), as opposed to an HTTP answer. */
export class TransportError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = "TransportError";
  }
}

/** One JSON request to Gatehouse; never logs or echoes the body (it carries passwords and tokens). */
export function callJson(
  ep: Endpoint,
  method: string,
  path: string,
  opts: { body?: unknown; bearer?: string } = {},
): Promise<JsonReply> {
  const url = new URL(path, ep.server);
  const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  return new Promise<JsonReply>((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        headers: {
          accept: "application/json",
          ...(payload !== undefined ? { "content-type": "application/json" } : {}),
          ...(opts.bearer ? { authorization: `Bearer ${opts.bearer}` } : {}),
        },
        ...(ep.caPem ? { ca: ep.caPem } : {}),
        rejectUnauthorized: ep.insecureSkipTlsVerify !== true,
        timeout: 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          let body: Record<string, unknown> = {};
          try {
            const v: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8"));
            if (typeof v === "object" && v !== null && !Array.isArray(v)) body = v as Record<string, unknown>;
          } catch {
            // not JSON: an empty body
          }
          resolve({ status: res.statusCode ?? 0, body });
        });
      },
    );
    req.on("timeout", () =>
      req.destroy(Object.assign(new Error("timed out after 30s"), { code: "ETIMEDOUT" })),
    );
    req.on("error", (e: NodeJS.ErrnoException) =>
      reject(new TransportError(`cannot reach ${url.origin}: ${e.code ?? e.message}`, e.code ?? "")),
    );
    req.end(payload);
  });
}

/** The message of a Status body, for errors shown to the user. */
export function statusMessage(r: JsonReply): string {
  const m = r.body["message"];
  return typeof m === "string" ? m : `HTTP ${r.status}`;
}
