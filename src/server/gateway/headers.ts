import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";
import type { UserInfo } from "../../core/k8s/index.js";

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
  "http2-settings",
]);

/** Headers a client could use to claim an identity; never forwarded as sent. */
function isIdentityHeader(name: string): boolean {
  return (
    name === "authorization" ||
    name.startsWith("impersonate-") ||
    name.startsWith("x-remote-") ||
    name === "audit-id"
  );
}

/** Names listed in Connection (any case, any spacing); they are hop-by-hop for this connection. */
function connectionListed(headers: IncomingHttpHeaders): Set<string> {
  const v = headers["connection"];
  const values = Array.isArray(v) ? v : v === undefined ? [] : [v];
  return new Set(
    values
      .flatMap((s) => s.split(","))
      .map((s) => s.trim().toLowerCase())
      .filter((s) => s !== ""),
  );
}

/**
 * The headers to send upstream: the client's minus identity, hop-by-hop and Connection-listed ones,
 * plus impersonation for the authorized user, set (never appended).
 */
export function upstreamHeaders(
  inbound: IncomingHttpHeaders,
  user: UserInfo,
  auditId: string,
  opts: { upgrade: boolean; clientIp: string },
): OutgoingHttpHeaders {
  const listed = connectionListed(inbound);
  const out: OutgoingHttpHeaders = {};
  for (const [rawName, value] of Object.entries(inbound)) {
    const name = rawName.toLowerCase();
    // HTTP/2 pseudo-headers (:method, :path, :authority, :scheme) are the request line, not headers.
    if (name.charCodeAt(0) === 0x3a /* : */) continue;
    if (value === undefined || HOP_BY_HOP.has(name) || listed.has(name) || isIdentityHeader(name)) continue;
    out[name] = value;
  }
  if (opts.upgrade) {
    out["connection"] = "Upgrade";
    const up = inbound["upgrade"];
    if (up !== undefined) out["upgrade"] = up;
  }
  out["impersonate-user"] = user.username;
  if (user.groups.length > 0) out["impersonate-group"] = [...user.groups];
  if (user.uid) out["impersonate-uid"] = user.uid;
  for (const [key, values] of Object.entries(user.extra ?? {})) {
    out[`impersonate-extra-${encodeExtraKey(key)}`] = [...values];
  }
  out["audit-id"] = auditId;
  out["x-forwarded-for"] = opts.clientIp;
  return out;
}

/** Extra keys travel percent-encoded in header names, as client-go's transport encodes them. */
export function encodeExtraKey(key: string): string {
  let name = extraHeaderNames.get(key);
  if (name === undefined) {
    name = encodeURIComponent(key.toLowerCase()).replace(
      /[!'()*]/g,
      (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
    );
    // Extra keys come from a small set (gatehouse.io/..., providers' claims): remember them, bounded.
    if (extraHeaderNames.size >= 1_000) extraHeaderNames.clear();
    extraHeaderNames.set(key, name);
  }
  return name;
}

const extraHeaderNames = new Map<string, string>();

/** Response headers to relay to the client: all but hop-by-hop ones. */
export function downstreamHeaders(upstream: IncomingHttpHeaders): OutgoingHttpHeaders {
  const listed = connectionListed(upstream);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(upstream)) {
    if (value === undefined || HOP_BY_HOP.has(name) || listed.has(name)) continue;
    out[name] = value;
  }
  return out;
}

/**
 * The client's Impersonate-* headers as distinct values, from the raw header list (HTTP/1.1 and
 * HTTP/2 alike; Node's joined `headers` would merge repeated values with ", ").
 */
export function impersonationHeaders(rawHeaders: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const raw = rawHeaders[i] as string;
    if (raw.length < 12 || (raw.charCodeAt(0) | 0x20) !== 0x69 /* i */) continue;
    const name = raw.toLowerCase();
    if (!name.startsWith("impersonate-")) continue;
    (out[name] ??= []).push(rawHeaders[i + 1] as string);
  }
  return out;
}
