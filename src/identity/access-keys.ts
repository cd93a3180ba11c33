import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Store } from "../store/index.js";
import type { Authenticator } from "./authenticator.js";

/** Access keys for automation: bearer tokens `ghk.<name>.<secret>`, stored as a SHA-256 of the secret only. */
export const ACCESS_KEY_KIND = "AccessKey";
const PREFIX = "ghk";

export interface AccessKeySpec {
  /** The user the key acts as. */
  user: string;
  /** Clusters the key may reach; absent = every cluster the user may reach. */
  clusters?: string[];
  /** RFC 3339; absent = never expires. */
  expiresAt?: string;
  description?: string;
}

export interface IssuedKey {
  token: string;
  secretHash: string;
}

export function issueKey(name: string): IssuedKey {
  const secret = randomBytes(32).toString("base64url");
  return {
    token: `${PREFIX}.${Buffer.from(name).toString("base64url")}.${secret}`,
    secretHash: sha256(secret),
  };
}

function sha256(s: string): string {
  return createHash("sha256").update(s).digest("hex");
}

/** Split a bearer token into key name and secret; undefined if it is not an access key at all. */
export function parseKeyToken(token: string): { name: string; secret: string } | undefined | "malformed" {
  if (!token.startsWith(`${PREFIX}.`)) return undefined;
  const parts = token.split(".");
  if (parts.length !== 3 || !parts[1] || !parts[2]) return "malformed";
  const name = Buffer.from(parts[1], "base64url").toString("utf8");
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name)) return "malformed";
  return { name, secret: parts[2] };
}

/**
 * Bearer authentication with access keys. A key that is unknown, expired, revoked (deleted), or whose
 * user is missing or disabled is rejected; the stored hash is compared in constant time.
 */
export function accessKeyAuthenticator(store: Store, now: () => number): Authenticator {
  const lastUsedWritten = new Map<string, number>();
  return {
    async authenticate(headers) {
      const h = headers.authorization;
      if (h === undefined || !/^bearer /i.test(h)) return { kind: "none" };
      const parsed = parseKeyToken(h.slice(7).trim());
      if (parsed === undefined) return { kind: "none" };
      if (parsed === "malformed") return { kind: "rejected", reason: "malformed access key" };
      const row = await store.objects.get({ kind: ACCESS_KEY_KIND, namespace: "", name: parsed.name });
      const stored = row?.body["secretHash"];
      const given = Buffer.from(sha256(parsed.secret), "hex");
      const ok =
        typeof stored === "string" &&
        stored.length === 64 &&
        timingSafeEqual(Buffer.from(stored, "hex"), given);
      if (!row || !ok) return { kind: "rejected", reason: "invalid access key" };
      const spec = row.body["spec"] as AccessKeySpec;
      if (spec.expiresAt && Date.parse(spec.expiresAt) <= now())
        return { kind: "rejected", reason: "access key expired" };
      const user = await store.users.get(spec.user);
      if (!user || user.disabled)
        return { kind: "rejected", reason: "the access key's user is missing or disabled" };
      // Record last use at most once a minute per key, off the request path.
      const t = now();
      if ((lastUsedWritten.get(parsed.name) ?? 0) < t - 60_000) {
        lastUsedWritten.set(parsed.name, t);
        void store.objects
          .get({ kind: ACCESS_KEY_KIND, namespace: "", name: parsed.name })
          .then(
            (cur) =>
              cur &&
              store.objects.update(
                { kind: ACCESS_KEY_KIND, namespace: "", name: parsed.name },
                { ...cur.body, status: { lastUsed: new Date(t).toISOString() } },
                cur.resourceVersion,
              ),
          )
          .catch(() => undefined);
      }
      return {
        kind: "authenticated",
        method: "accesskey",
        user: {
          username: user.name,
          uid: user.uid,
          groups: [...user.groups, "system:authenticated"],
          extra: {
            "gatehouse.io/access-key": [parsed.name],
            ...(spec.clusters ? { "gatehouse.io/clusters": spec.clusters } : {}),
          },
        },
      };
    },
  };
}
