import { request } from "node:https";
import { readFileSync } from "node:fs";

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json<T = Record<string, unknown>>(): T;
}

/** One HTTPS request against a test server, trusting its CA file; never throws on HTTP errors. */
export function call(
  base: string,
  caFile: string,
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; body?: string | Buffer; auth?: [string, string] } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.auth)
      headers["authorization"] = `Basic ${Buffer.from(`${opts.auth[0]}:${opts.auth[1]}`).toString("base64")}`;
    const u = new URL(base);
    // The path goes out exactly as given (no URL normalisation), so tests can send path tricks.
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path,
        method,
        headers,
        ca: readFileSync(caFile),
        agent: false,
        servername: "localhost",
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const body = Buffer.concat(chunks).toString("utf8");
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) });
        });
      },
    );
    req.on("error", reject);
    req.end(opts.body);
  });
}
