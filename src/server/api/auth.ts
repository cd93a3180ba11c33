import type { Logger } from "pino";
import type { Router } from "../router.js";
import type { RequestContext } from "../context.js";
import type { Store, UserRecord } from "../../store/index.js";
import type { ClusterRegistry } from "../../clusters/types.js";
import {
  ADMIN_GROUP,
  AUTH_CODE_GRANT_TYPE,
  CLI_CLIENT_ID,
  DEVICE_GRANT_TYPE,
  DISCOVERY_PATH,
  JWKS_PATH,
  RefreshError,
  type AuthorizationCodes,
  type DeviceGrants,
  type Issuer,
  type LoginThrottle,
  type TokenSet,
} from "../../identity/index.js";
import type { SessionRow } from "../../identity/issuer/repositories.js";
import type { AccessEvaluator } from "../gateway/access.js";
import { readJSONObject } from "../body.js";
import { HttpError } from "../errors.js";
import { writeJSON } from "../respond.js";
import { API_PREFIX, GROUP_VERSION } from "./group.js";
import { signInWithPassword, type PasswordSignInDeps } from "./password-signin.js";
import { formatMicroTime, type GatehouseEvent, type GatehouseEventContext } from "../../core/audit/index.js";

export interface AuthRouteDeps {
  /** Records Gatehouse's own events (logins) in the audit log. */
  recordEvent: (e: GatehouseEvent, ctx: GatehouseEventContext) => Promise<void>;
  store: Store;
  issuer: Issuer;
  throttle: LoginThrottle;
  access: AccessEvaluator;
  clusters: ClusterRegistry;
  devices: DeviceGrants;
  codes: AuthorizationCodes;
  maxBody: number;
  log: Logger;
  /** Password identity providers (LDAP, AD), the sealing of their identities, local users' TOTP. */
  providers?: NonNullable<PasswordSignInDeps["providers"]>;
  upstream?: NonNullable<PasswordSignInDeps["upstream"]>;
  totp?: NonNullable<PasswordSignInDeps["totp"]>;
}

function tokenResponse(t: TokenSet): Record<string, unknown> {
  return {
    apiVersion: GROUP_VERSION,
    kind: "TokenSet",
    accessToken: t.accessToken,
    accessTokenExpiresAt: new Date(t.accessTokenExpiresAt).toISOString(),
    refreshToken: t.refreshToken,
    sessionId: t.sessionId,
    user: t.user,
  };
}

function presentSession(s: SessionRow): Record<string, unknown> {
  return {
    apiVersion: GROUP_VERSION,
    kind: "Session",
    metadata: { name: s.id, creationTimestamp: new Date(s.createdAt).toISOString() },
    spec: { user: s.user, client: s.client },
    status: {
      lastUsed: new Date(s.lastUsedAt).toISOString(),
      expiresAt: new Date(s.expiresAt).toISOString(),
    },
  };
}

const field = (body: Record<string, unknown>, name: string): string => {
  const v = body[name];
  if (typeof v !== "string" || v === "" || v.length > 4096)
    throw new HttpError("BadRequest", `${name}: must be a non-empty string`);
  return v;
};

const success = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success" };

/** The audit context of a Gatehouse event raised while serving this request. */
export function eventContext(ctx: RequestContext, actor?: UserRecord): GatehouseEventContext {
  const ua = ctx.req.headers["user-agent"];
  return {
    auditID: ctx.requestId,
    requestURI: ctx.req.url ?? "",
    sourceIPs: [ctx.req.socket.remoteAddress ?? ""],
    ...(ua ? { userAgent: ua } : {}),
    timestamp: formatMicroTime(Date.now()),
    ...(actor
      ? { actor: { username: actor.name, uid: actor.uid, groups: [...actor.groups, "system:authenticated"] } }
      : {}),
  };
}

/** The audit context with the authenticated caller (if any) as the actor. */
export function callerEventContext(ctx: RequestContext): GatehouseEventContext {
  const base = eventContext(ctx);
  if (!ctx.user) return base;
  const { username, uid, groups } = ctx.user;
  return { ...base, actor: { username, ...(uid !== undefined ? { uid } : {}), groups: [...groups] } };
}

/**
 * Check a password (a local user's, or at the password identity provider named `provider`) under
 * brute-force throttling; see signInWithPassword in password-signin.ts for every answer.
 */
export async function checkPassword(
  deps: PasswordSignInDeps,
  ctx: RequestContext,
  username: string,
  password: string,
  provider = "",
  totp?: string,
): Promise<UserRecord> {
  const creds = { username, password, provider, ...(totp !== undefined ? { totp } : {}) };
  return (await signInWithPassword(deps, ctx, creds, (c) => eventContext(c))).user;
}

/**
 * Sign-in, refresh, logout and the issuer's public documents. Errors name no internals: a failed
 * sign-in never says whether the user exists; a refused refresh says only that it was refused.
 */
export function addAuthRoutes(router: Router, deps: AuthRouteDeps): void {
  const { issuer } = deps;
  router.add("GET", DISCOVERY_PATH, async (ctx) => writeJSON(ctx.res, 200, issuer.discovery()));
  router.add("GET", JWKS_PATH, async (ctx) => writeJSON(ctx.res, 200, await issuer.jwks()));

  router.add("POST", `${API_PREFIX}/login`, async (ctx) => {
    const body = await readJSONObject(ctx.req, deps.maxBody);
    const optional = (name: string): string | undefined =>
      body[name] === undefined || body[name] === "" ? undefined : field(body, name);
    const provider = optional("provider");
    const totp = optional("totp");
    const { user, sealedIdentity, ...via } = await signInWithPassword(
      deps,
      ctx,
      {
        username: field(body, "username"),
        password: field(body, "password"),
        ...(provider !== undefined ? { provider } : {}),
        ...(totp !== undefined ? { totp } : {}),
      },
      (c) => eventContext(c),
    );
    const client = typeof body["client"] === "string" ? body["client"] : "";
    const tokens = await issuer.sessions.start(user, client, sealedIdentity);
    ctx.log.info({ username: user.name, provider: via.provider, session: tokens.sessionId }, "signed in");
    await deps.recordEvent(
      { kind: "login.succeeded", provider: via.provider, sessionId: tokens.sessionId },
      eventContext(ctx, user),
    );
    writeJSON(ctx.res, 201, tokenResponse(tokens));
  });

  router.add("POST", `${API_PREFIX}/token`, async (ctx) => {
    const body = await readJSONObject(ctx.req, deps.maxBody);
    if (body["grant_type"] === AUTH_CODE_GRANT_TYPE) {
      if (body["client_id"] !== CLI_CLIENT_ID) return writeJSON(ctx.res, 400, { error: "invalid_client" });
      const r = await deps.codes.redeem(
        field(body, "code"),
        field(body, "code_verifier"),
        field(body, "redirect_uri"),
      );
      if (r.kind !== "ok") return writeJSON(ctx.res, 400, { error: "invalid_grant" });
      const tokens = await issuer.sessions.start(r.user, r.client, r.sealedIdentity);
      ctx.log.info({ username: r.user.name, session: tokens.sessionId }, "signed in in a browser");
      await deps.recordEvent(
        { kind: "login.succeeded", provider: r.provider, sessionId: tokens.sessionId },
        eventContext(ctx, r.user),
      );
      return writeJSON(ctx.res, 201, tokenResponse(tokens));
    }
    if (body["grant_type"] === DEVICE_GRANT_TYPE) {
      const r = await deps.devices.poll(field(body, "device_code"));
      // RFC 8628 §3.5: errors are 400 with an OAuth error code, which the polling client reads.
      if (r.kind === "error") return writeJSON(ctx.res, 400, { error: r.error });
      const tokens = await issuer.sessions.start(r.user, r.client);
      ctx.log.info({ username: r.user.name, session: tokens.sessionId }, "signed in with a device code");
      // The device page checked a local user's password (password-signin.ts); the session starts here.
      await deps.recordEvent(
        { kind: "login.succeeded", provider: "local", sessionId: tokens.sessionId },
        eventContext(ctx, r.user),
      );
      return writeJSON(ctx.res, 201, tokenResponse(tokens));
    }
    let tokens: TokenSet;
    try {
      tokens = await issuer.sessions.refresh(field(body, "refreshToken"));
    } catch (e) {
      if (!(e instanceof RefreshError)) throw e;
      const level = e.code === "Reused" ? "warn" : "info";
      ctx.log[level]({ code: e.code, session: e.ended?.sessionId }, "refresh refused");
      // Whoever presented the token is not known for sure (a reused token may be a thief's): the
      // event's actor stays anonymous and the session's owner is the subject.
      if (e.ended)
        await deps.recordEvent(
          {
            kind: "token.revoked",
            tokenId: e.ended.sessionId,
            subject: e.ended.user,
            reason: e.ended.reason,
          },
          eventContext(ctx),
        );
      throw new HttpError("Unauthorized", "the refresh token was refused: sign in again");
    }
    await deps.recordEvent(
      {
        kind: "token.issued",
        tokenId: tokens.sessionId,
        subject: tokens.user,
        expiresAt: new Date(tokens.accessTokenExpiresAt).toISOString(),
      },
      { ...eventContext(ctx), actor: { username: tokens.user, groups: ["system:authenticated"] } },
    );
    writeJSON(ctx.res, 201, tokenResponse(tokens));
  });

  router.add("POST", `${API_PREFIX}/logout`, async (ctx) => {
    const body = await readJSONObject(ctx.req, deps.maxBody);
    const session = await issuer.sessions.sessionOf(field(body, "refreshToken"));
    // Answer the same whether or not the token was known: logout is idempotent and reveals nothing.
    if (session && (await issuer.sessions.revoke(session.id, "logout")))
      await deps.recordEvent(
        { kind: "token.revoked", tokenId: session.id, subject: session.user, reason: "logout" },
        { ...eventContext(ctx), actor: { username: session.user, groups: ["system:authenticated"] } },
      );
    writeJSON(ctx.res, 200, success);
  });

  const isAdmin = (ctx: RequestContext): boolean => ctx.user?.groups.includes(ADMIN_GROUP) === true;

  router.add("GET", `${API_PREFIX}/sessions`, async (ctx) => {
    const asked = ctx.url.searchParams.get("user");
    const user = isAdmin(ctx) ? (asked ?? undefined) : ctx.user?.username;
    const items = (await issuer.sessions.listLive(user)).map(presentSession);
    writeJSON(ctx.res, 200, { apiVersion: GROUP_VERSION, kind: "SessionList", metadata: {}, items });
  });

  // Incident response: end every session of one user at once (administrators only).
  router.add("DELETE", `${API_PREFIX}/sessions`, async (ctx) => {
    const user = ctx.url.searchParams.get("user");
    if (!isAdmin(ctx)) throw new HttpError("Forbidden", "only administrators may end other users' sessions");
    if (!user) throw new HttpError("BadRequest", "name the user whose sessions end: ?user=NAME");
    const reason = "revoked by admin";
    const ended = await issuer.sessions.revokeAllFor(user, reason);
    for (const id of ended)
      await deps.recordEvent(
        { kind: "token.revoked", tokenId: id, subject: user, reason },
        callerEventContext(ctx),
      );
    const n = ended.length;
    ctx.log.info({ owner: user, sessions: n }, "all sessions of a user revoked");
    writeJSON(ctx.res, 200, {
      ...success,
      details: { name: user, kind: "sessions" },
      message: `${n} revoked`,
    });
  });

  router.add("DELETE", `${API_PREFIX}/sessions/:id`, async (ctx, p) => {
    const id = p["id"] as string;
    const s = await issuer.sessions.get(id);
    if (!s || (!isAdmin(ctx) && s.user !== ctx.user?.username))
      throw new HttpError("NotFound", `sessions.gatehouse.io ${JSON.stringify(id)} not found`);
    const reason = isAdmin(ctx) && s.user !== ctx.user?.username ? "revoked by admin" : "logout";
    if (await issuer.sessions.revoke(id, reason))
      await deps.recordEvent(
        { kind: "token.revoked", tokenId: id, subject: s.user, reason },
        callerEventContext(ctx),
      );
    ctx.log.info({ session: id, owner: s.user }, "session revoked");
    writeJSON(ctx.res, 200, { ...success, details: { name: id, group: "gatehouse.io", kind: "sessions" } });
  });

  // The clusters the caller can see through the gateway (for `gatehouse login` to write contexts).
  router.add("GET", `${API_PREFIX}/myclusters`, async (ctx) => {
    const caller = ctx.user;
    if (!caller) throw new HttpError("Unauthorized", "Unauthorized");
    const actor = await deps.access.withTeams(caller);
    const scoped = actor.extra?.["gatehouse.io/clusters"];
    const items: { name: string; labels: Readonly<Record<string, string>> }[] = [];
    for (const c of await deps.clusters.list()) {
      if (scoped && !scoped.includes(c.name)) continue;
      if (await deps.access.visible(actor, { name: c.name, labels: c.labels }))
        items.push({ name: c.name, labels: c.labels });
    }
    items.sort((a, b) => a.name.localeCompare(b.name));
    writeJSON(ctx.res, 200, { apiVersion: GROUP_VERSION, kind: "MyClusterList", metadata: {}, items });
  });
}
