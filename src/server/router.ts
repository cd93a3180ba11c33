import type { Handler, RequestContext } from "./context.js";
import { HttpError } from "./errors.js";

export type RouteHandler = (ctx: RequestContext, params: Readonly<Record<string, string>>) => Promise<void>;

interface Route {
  method: string;
  label: string;
  segments: string[];
  handler: RouteHandler;
}

/**
 * Exact-segment routing: "/apis/gatehouse.io/v1alpha1/users/:name". Paths are matched on their
 * decoded segments; "." and ".." segments and empty segments never match anything, so path tricks
 * cannot reach a route by another spelling.
 */
export class Router {
  private readonly routes: Route[] = [];
  private readonly prefixes: { prefix: string; handler: (ctx: RequestContext) => Promise<void> }[] = [];

  add(method: string, pattern: string, handler: RouteHandler): this {
    this.routes.push({ method, label: pattern, segments: pattern.split("/").slice(1), handler });
    return this;
  }

  /** Everything under a path prefix goes to one handler, which parses the rest itself (the gateway). */
  prefix(prefix: string, handler: (ctx: RequestContext) => Promise<void>): this {
    this.prefixes.push({ prefix, handler });
    return this;
  }

  handler(): Handler {
    return async (ctx) => {
      for (const p of this.prefixes) if (ctx.rawPath.startsWith(p.prefix)) return p.handler(ctx);
      const segments = splitPath(ctx.rawPath);
      let pathMatched = false;
      for (const r of this.routes) {
        const params = segments && match(r.segments, segments);
        if (!params) continue;
        pathMatched = true;
        const method = ctx.req.method === "HEAD" ? "GET" : ctx.req.method;
        if (r.method !== method) continue;
        ctx.route = r.label;
        return r.handler(ctx, params);
      }
      if (pathMatched)
        throw new HttpError(
          "MethodNotAllowed",
          `the server does not allow this method on the requested resource`,
        );
      throw new HttpError("NotFound", "the server could not find the requested resource");
    };
  }
}

function splitPath(pathname: string): string[] | undefined {
  if (!pathname.startsWith("/")) return undefined;
  const raw = pathname.split("/").slice(1);
  const out: string[] = [];
  for (const s of raw) {
    let d: string;
    try {
      d = decodeURIComponent(s);
    } catch {
      return undefined;
    }
    if (d === "." || d === ".." || d.includes("/")) return undefined;
    out.push(d);
  }
  if (out.length > 1 && out[out.length - 1] === "") out.pop();
  return out;
}

function match(pattern: string[], segments: string[]): Record<string, string> | undefined {
  if (pattern.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i] as string;
    const s = segments[i] as string;
    if (p.startsWith(":")) {
      if (s === "") return undefined;
      params[p.slice(1)] = s;
    } else if (p !== s) return undefined;
  }
  return params;
}
