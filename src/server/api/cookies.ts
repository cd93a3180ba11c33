import type { IncomingMessage, ServerResponse } from "node:http";

/** The value of one cookie of a request, or undefined. */
export function readCookie(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const i = part.indexOf("=");
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

/**
 * Add a `__Host-` cookie: Secure, Path=/, no Domain (the browser then keeps it to this exact origin),
 * HttpOnly. Appended, so several cookies can be set on one response.
 */
export function setHostCookie(
  res: ServerResponse,
  name: string,
  value: string,
  opts: { maxAgeSeconds: number; sameSite: "Strict" | "Lax" | "None" },
): void {
  const cookie = `${name}=${value}; Path=/; Secure; HttpOnly; SameSite=${opts.sameSite}; Max-Age=${opts.maxAgeSeconds}`;
  const prev = res.getHeader("Set-Cookie");
  res.setHeader("Set-Cookie", [...(Array.isArray(prev) ? prev : prev ? [String(prev)] : []), cookie]);
}
