import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Store } from "../store/index.js";
import type { AuthResult, Authenticator } from "./authenticator.js";
import {
  CREDENTIAL_CACHE_DEFAULTS,
  CredentialCache,
  type CredentialCacheOptions,
} from "./credential-cache.js";

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

/** A key's successful authentication, as kept in the cache. */
interface KeyAnswer {
  username: string;
  uid: string;
  groups: readonly string[];
  clusters: readonly string[] | undefined;
}

/**
 * Bearer authentication with access keys. A key that is unknown, expired, revoked (deleted), or whose
 * user is missing or disabled is rejected; the stored hash is compared in constant time.
 *
 * A good answer is cached (credential-cache.ts) under the store's change stamp for the key and the
 * users: revoking the key, or changing, disabling or deleting any user, through this process or (on
 * SQLite) any other, changes the stamp, so the next request is checked against the store again. On
 * PostgreSQL other replicas' writes do not show in the stamp, so by default nothing is cached there
 * (`sharedOnly`): every request reads the key and the user, and revocation is seen at once everywhere.
 */
export function accessKeyAuthenticator(
  store: Store,
  now: () => number,
  cacheOptions: CredentialCacheOptions = CREDENTIAL_CACHE_DEFAULTS,
): Authenticator {
  const lastUsedWritten = new Map<string, number>();
  const cache = new CredentialCache<KeyAnswer>(cacheOptions, now);
  const recordUse = (name: string): void => {
    // Record last use at most once a minute per key, off the request path.
    const t = now();
    if ((lastUsedWritten.get(name) ?? 0) >= t - 60_000) return;
    lastUsedWritten.set(name, t);
    void store.objects
      .get({ kind: ACCESS_KEY_KIND, namespace: "", name })
      .then(
        (cur) =>
          cur &&
          store.objects.update(
            { kind: ACCESS_KEY_KIND, namespace: "", name },
            { ...cur.body, status: { lastUsed: new Date(t).toISOString() } },
            cur.resourceVersion,
          ),
      )
      .catch(() => undefined);
  };
  const authenticated = (name: string, a: KeyAnswer): AuthResult => ({
    kind: "authenticated",
    method: "accesskey",
    user: {
      username: a.username,
      uid: a.uid,
      groups: [...a.groups, "system:authenticated"],
      extra: {
        "gatehouse.io/access-key": [name],
        ...(a.clusters ? { "gatehouse.io/clusters": [...a.clusters] } : {}),
      },
    },
  });
  return {
    async authenticate(headers) {
      const h = headers.authorization;
      if (h === undefined || !/^bearer /i.test(h)) return { kind: "none" };
      const token = h.slice(7).trim();
      const parsed = parseKeyToken(token);
      if (parsed === undefined) return { kind: "none" };
      if (parsed === "malformed") return { kind: "rejected", reason: "malformed access key" };
      const key = { kind: ACCESS_KEY_KIND, namespace: "", name: parsed.name };
      // Read before the lookups: a write that lands while they run changes it (credential-cache.ts).
      const { stamp, shared } = store.changeStamp(key);
      const cacheKey = cache.enabled(shared) ? CredentialCache.keyOf(token) : undefined;
      const hit = cacheKey === undefined ? undefined : cache.get(cacheKey, stamp);
      if (hit) {
        recordUse(parsed.name);
        return authenticated(parsed.name, hit);
      }
      const row = await store.objects.get(key);
      const stored = row?.body["secretHash"];
      const given = Buffer.from(sha256(parsed.secret), "hex");
      const ok =
        typeof stored === "string" &&
        stored.length === 64 &&
        timingSafeEqual(Buffer.from(stored, "hex"), given);
      if (!row || !ok) return { kind: "rejected", reason: "invalid access key" };
      const spec = row.body["spec"] as AccessKeySpec;
      const expiresAt = spec.expiresAt ? Date.parse(spec.expiresAt) : Infinity;
      if (expiresAt <= now()) return { kind: "rejected", reason: "access key expired" };
      const user = await store.users.get(spec.user);
      if (!user || user.disabled)
        return { kind: "rejected", reason: "the access key's user is missing or disabled" };
      recordUse(parsed.name);
      const answer: KeyAnswer = {
        username: user.name,
        uid: user.uid,
        groups: user.groups,
        clusters: spec.clusters,
      };
      if (cacheKey !== undefined) cache.set(cacheKey, stamp, answer, expiresAt);
      return authenticated(parsed.name, answer);
    },
  };
}
