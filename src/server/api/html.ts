import type { RequestContext } from "../context.js";

/** Escape text for HTML content and quoted attributes. */
export const escape = (s: string): string =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c,
  );

/**
 * A page no one can frame or script: forms post back here only, plus `formTargets` (a form whose
 * answer redirects elsewhere needs the target listed: browsers apply form-action to redirects too).
 */
export function writePage(ctx: RequestContext, code: number, body: string, formTargets: string[] = []): void {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Gatehouse sign-in</title></head><body><h1>Gatehouse</h1>${body}</body></html>`;
  const res = ctx.res;
  res.statusCode = code;
  res.setHeader("Content-Type", "text/html; charset=utf-8");
  res.setHeader("Content-Length", Buffer.byteLength(html));
  res.setHeader("Cache-Control", "no-store");
  res.setHeader(
    "Content-Security-Policy",
    `default-src 'none'; form-action ${["'self'", ...formTargets].join(" ")}; frame-ancestors 'none'`,
  );
  res.setHeader("X-Frame-Options", "DENY");
  res.setHeader("X-Content-Type-Options", "nosniff");
  res.setHeader("Referrer-Policy", "no-referrer");
  res.end(html);
}
