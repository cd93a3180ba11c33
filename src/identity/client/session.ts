import {
  CacheError,
  normaliseServer,
  readCache,
  withCacheLock,
  writeCache,
  type CachedLogin,
} from "./cache.js";
import { callJson, statusMessage, type Endpoint, type JsonReply } from "./http.js";

const API = "/apis/gatehouse.io/v1alpha1";

/** Why a client-side login step failed; `exit` is the CLI's exit code (2 refused/bad input, 3 unreachable). */
export class LoginError extends Error {
  constructor(
    message: string,
    readonly exit: 2 | 3,
  ) {
    super(message);
    this.name = "LoginError";
  }
}

/** The password was right and the user has TOTP: ask for the one-time code and sign in again. */
export class TotpRequiredError extends LoginError {
  constructor(message: string) {
    super(message, 2);
    this.name = "TotpRequiredError";
  }
}

/** The cache entry for a TokenSet answer. */
export function tokensFrom(r: JsonReply, ep: Endpoint, user: string): CachedLogin {
  const b = r.body;
  const s = (k: string): string => {
    const v = b[k];
    if (typeof v !== "string") throw new LoginError(`unexpected answer from ${ep.server}: no ${k}`, 3);
    return v;
  };
  return {
    server: normaliseServer(ep.server),
    user,
    ...(ep.caPem ? { caPem: ep.caPem } : {}),
    ...(ep.insecureSkipTlsVerify ? { insecureSkipTlsVerify: true } : {}),
    accessToken: s("accessToken"),
    accessTokenExpiresAt: s("accessTokenExpiresAt"),
    refreshToken: s("refreshToken"),
    sessionId: s("sessionId"),
  };
}

const refused = (what: string, r: JsonReply): LoginError =>
  new LoginError(`${what}: ${statusMessage(r)}`, r.status >= 500 ? 3 : 2);

/** Sign in with a password; the tokens go to the cache. */
export async function passwordLogin(
  ep: Endpoint,
  dir: string,
  user: string,
  password: string,
  client: string,
  /** `provider`: an LDAP/AD IdentityProvider's name; `totp`: a local user's one-time code. */
  extra: { provider?: string; totp?: string } = {},
): Promise<CachedLogin> {
  const body = { username: user, password, client, ...extra };
  const r = await callJson(ep, "POST", `${API}/login`, { body });
  if (r.status === 401 && JSON.stringify(r.body["details"] ?? {}).includes('"TOTPRequired"'))
    throw new TotpRequiredError(`sign-in refused: ${statusMessage(r)}`);
  if (r.status !== 201) throw refused("sign-in refused", r);
  const entry = tokensFrom(r, ep, user);
  writeCache(dir, entry);
  return entry;
}

/**
 * The cached login with an access token valid for at least `minValidMs` more, refreshing it (and
 * rotating the refresh token) under the cache lock when needed.
 */
export async function freshLogin(
  dir: string,
  server: string,
  user: string,
  now: () => number,
  minValidMs = 60_000,
): Promise<CachedLogin> {
  return withCacheLock(dir, server, user, async () => {
    const cached = readCache(dir, server, user);
    if (!cached)
      throw new LoginError(`not logged in to ${normaliseServer(server)} as ${user}: run gatehouse login`, 2);
    if (Date.parse(cached.accessTokenExpiresAt) - minValidMs > now()) return cached;
    const ep = endpointOf(cached);
    const r = await callJson(ep, "POST", `${API}/token`, { body: { refreshToken: cached.refreshToken } });
    if (r.status !== 201) throw refused("session ended, run gatehouse login again", r);
    const entry = tokensFrom(r, ep, user);
    writeCache(dir, entry);
    return entry;
  });
}

export function endpointOf(c: CachedLogin): Endpoint {
  return {
    server: c.server,
    ...(c.caPem ? { caPem: c.caPem } : {}),
    ...(c.insecureSkipTlsVerify ? { insecureSkipTlsVerify: true } : {}),
  };
}

/**
 * Sign in with the device authorization grant (RFC 8628): show the person where to approve, then
 * poll at the interval the server asks for (slower on slow_down) until approved, denied or expired.
 */
export async function deviceLogin(
  ep: Endpoint,
  dir: string,
  client: string,
  show: (verificationUri: string, userCode: string, complete: string) => void,
  sleep: (ms: number) => Promise<void>,
): Promise<CachedLogin> {
  const a = await callJson(ep, "POST", `${API}/device/authorize`, { body: { client } });
  if (a.status !== 201) throw refused("device sign-in refused", a);
  const deviceCode = a.body["device_code"];
  const userCode = a.body["user_code"];
  const uri = a.body["verification_uri"];
  if (typeof deviceCode !== "string" || typeof userCode !== "string" || typeof uri !== "string")
    throw new LoginError(`unexpected answer from ${ep.server}: no device code`, 3);
  const complete =
    typeof a.body["verification_uri_complete"] === "string" ? a.body["verification_uri_complete"] : uri;
  show(uri, userCode, complete);
  let interval = typeof a.body["interval"] === "number" ? a.body["interval"] : 5;
  for (;;) {
    await sleep(interval * 1000);
    const r = await callJson(ep, "POST", `${API}/token`, {
      body: { grant_type: "urn:ietf:params:oauth:grant-type:device_code", device_code: deviceCode },
    });
    if (r.status === 201) {
      const user = r.body["user"];
      if (typeof user !== "string") throw new LoginError(`unexpected answer from ${ep.server}: no user`, 3);
      const entry = tokensFrom(r, ep, user);
      writeCache(dir, entry);
      return entry;
    }
    const error = r.body["error"];
    if (error === "authorization_pending") continue;
    if (error === "slow_down") {
      interval += 5;
      continue;
    }
    if (error === "access_denied") throw new LoginError("the sign-in was denied", 2);
    if (error === "expired_token")
      throw new LoginError("the code expired before it was approved: try again", 2);
    throw refused("device sign-in refused", r);
  }
}

/** The clusters the signed-in user can reach through the gateway. */
export async function myClusters(c: CachedLogin): Promise<string[]> {
  const r = await callJson(endpointOf(c), "GET", `${API}/myclusters`, { bearer: c.accessToken });
  if (r.status !== 200) throw refused("cannot list your clusters", r);
  const items = Array.isArray(r.body["items"]) ? (r.body["items"] as { name?: unknown }[]) : [];
  return items.flatMap((i) => (typeof i.name === "string" ? [i.name] : []));
}

/** End the session server-side; the caller clears the cache afterwards. */
export async function serverLogout(c: CachedLogin): Promise<void> {
  const r = await callJson(endpointOf(c), "POST", `${API}/logout`, {
    body: { refreshToken: c.refreshToken },
  });
  if (r.status !== 200) throw refused("logout refused", r);
}

export { CacheError };
