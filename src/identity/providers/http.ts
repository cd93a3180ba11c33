import { AsyncLocalStorage } from "node:async_hooks";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { ProviderUnavailableError } from "./types.js";

/** A `fetch` with the same signature as the global one, as openid-client's `customFetch` expects. */
export type ProviderFetch = (url: string, init?: RequestInit) => Promise<Response>;

const MAX_BODY = 1024 * 1024;

/**
 * The caller's abort signal for provider calls made through libraries (openid-client) that take a
 * fixed `fetch`: `withSignal(signal, fn)` makes every providerFetch inside `fn` end when it aborts.
 */
const callSignal = new AsyncLocalStorage<AbortSignal>();
export const withSignal = <T>(signal: AbortSignal, fn: () => Promise<T>): Promise<T> =>
  callSignal.run(signal, fn);

/** True when an error (or any of its causes) means the provider could not be reached in time. */
export function isUnavailable(e: unknown): boolean {
  for (let c = e, i = 0; c instanceof Error && i < 5; c = c.cause, i++)
    if (c instanceof ProviderUnavailableError || c.name === "TimeoutError" || c.name === "AbortError")
      return true;
  return false;
}

/** The innermost message of an error chain, for logs and `idp test`. */
export function rootMessage(e: unknown): string {
  let c = e;
  for (let i = 0; c instanceof Error && c.cause instanceof Error && i < 5; i++) c = c.cause;
  return c instanceof Error ? c.message : String(c);
}

/**
 * `fetch` over node:http(s) so that a provider's own CA bundle (`caData`/`caFile`) is trusted for its
 * calls only, never process-wide. Redirects are not followed (openid-client and OAuth token endpoints
 * do not need them, and a redirect must not carry a client secret elsewhere); bodies are capped at
 * 1 MiB. Every call ends by `timeoutMs` at the latest, or earlier when `init.signal` aborts.
 */
export function providerFetch(provider: string, ca: string | undefined, timeoutMs: number): ProviderFetch {
  return (url, init = {}) =>
    new Promise<Response>((resolve, reject) => {
      const u = new URL(url);
      if (u.protocol !== "https:" && u.protocol !== "http:")
        return reject(new ProviderUnavailableError(provider, `unsupported URL scheme ${u.protocol}`));
      const headers: Record<string, string> = {};
      new Headers(init.headers).forEach((v, k) => (headers[k] = v));
      const body = init.body === undefined || init.body === null ? undefined : bodyText(init.body);
      if (body !== undefined) headers["content-length"] = String(Buffer.byteLength(body));
      const signals = [AbortSignal.timeout(timeoutMs), init.signal, callSignal.getStore()];
      const signal = AbortSignal.any(signals.filter((x): x is AbortSignal => x instanceof AbortSignal));
      const fail = (why: string): void =>
        reject(new ProviderUnavailableError(provider, `${u.origin}: ${why}`));
      if (signal.aborted) return fail("timed out");
      const send = u.protocol === "https:" ? httpsRequest : httpRequest;
      const req = send(
        u,
        { method: init.method ?? "GET", headers, ...(ca !== undefined ? { ca } : {}), signal },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on("data", (c: Buffer) => {
            size += c.length;
            if (size > MAX_BODY) {
              req.destroy();
              fail("response larger than 1 MiB");
            } else chunks.push(c);
          });
          res.on("error", (e) => fail(e.message));
          res.on("end", () => {
            const h = new Headers();
            for (const [k, v] of Object.entries(res.headers))
              if (v !== undefined) for (const one of Array.isArray(v) ? v : [v]) h.append(k, one);
            const status = res.statusCode ?? 502;
            const nullBody = status === 204 || status === 304;
            resolve(
              new Response(nullBody ? null : Buffer.concat(chunks), {
                status,
                statusText: res.statusMessage ?? "",
                headers: h,
              }),
            );
          });
        },
      );
      req.on("error", (e: NodeJS.ErrnoException) =>
        fail(signal.aborted ? `no answer within ${timeoutMs} ms` : (e.code ?? e.message)),
      );
      req.end(body);
    });
}

function bodyText(b: NonNullable<RequestInit["body"]>): string {
  if (typeof b === "string") return b;
  if (b instanceof URLSearchParams) return b.toString();
  if (b instanceof Uint8Array) return Buffer.from(b).toString("utf8");
  throw new TypeError("providerFetch: unsupported body type");
}
