import type { RequestContext } from "../context.js";
import type { Store, UserRecord } from "../../store/index.js";
import type { GatehouseEvent, GatehouseEventContext } from "../../core/audit/index.js";
import { dummyHash, verifyPassword, type LoginThrottle } from "../../identity/index.js";
import type { TotpEnrolments } from "../../identity/totp.js";
import {
  ProviderUnavailableError,
  upsertExternalUser,
  type ExternalIdentity,
  type PasswordProvider,
} from "../../identity/providers/index.js";
import { failure } from "../../core/k8s/index.js";
import { HttpError } from "../errors.js";

/** What a password sign-in needs; identity providers and TOTP are optional (absent: local only). */
export interface PasswordSignInDeps {
  store: Store;
  throttle: LoginThrottle;
  recordEvent: (e: GatehouseEvent, ctx: GatehouseEventContext) => Promise<void>;
  /** Password identity providers (LDAP, AD) by IdentityProvider name. */
  providers?: { password(name: string): Promise<PasswordProvider | undefined> };
  /** Seals a provider's identity for the session, which re-checks it at every refresh. */
  upstream?: { seal(identity: ExternalIdentity): string };
  /** Local users' second factor. */
  totp?: TotpEnrolments;
  now?: () => number;
}

export interface Credentials {
  username: string;
  password: string;
  /** An IdentityProvider's name; empty or absent for a local user. */
  provider?: string;
  /** The one-time code of a local user enrolled in TOTP. */
  totp?: string;
}

/** Who signed in, and through what. */
export interface PasswordSignIn {
  user: UserRecord;
  /** "local" or the IdentityProvider's name (for the audit event). */
  provider: string;
  /** A provider's identity, sealed: pass to sessions.start / codes.issue so refresh re-checks it. */
  sealedIdentity?: string;
}

/** The reason in a 401's Status causes when the password was right and a one-time code is needed. */
export const TOTP_REQUIRED = "TOTPRequired";
const INVALID = "invalid username or password";
/** Longer than any LDAP sign-in may take: each provider call has its own (shorter) timeout. */
const PROVIDER_DEADLINE_MS = 60_000;

/** The audit context of the request (auth.ts's eventContext). */
type Ctx = (ctx: RequestContext) => GatehouseEventContext;

/**
 * Check a username and password, locally or at a password identity provider, under brute-force
 * throttling, and audit every failure. Answers:
 * - 429 while throttled (the password is then not even checked);
 * - 401 "invalid username or password" whether or not the user exists;
 * - 401 with cause TOTPRequired when a local user's password was right but no code was given;
 * - 503 when the provider cannot be reached (not counted as a failed attempt);
 * - 403 when a provider's person may not become the Gatehouse user (a local user of that name...).
 */
export async function signInWithPassword(
  deps: PasswordSignInDeps,
  ctx: RequestContext,
  c: Credentials,
  eventContext: Ctx,
): Promise<PasswordSignIn> {
  const provider = c.provider ?? "";
  if (provider === "" || provider === "local") return local(deps, ctx, c, eventContext);
  return viaProvider(deps, ctx, c, provider, eventContext);
}

/**
 * Control characters written as \xNN: an injection attempt's NUL must not reach the audit store
 * (PostgreSQL text cannot hold it) nor a terminal reading the log.
 */
const printable = (s: string): string =>
  [...s]
    .map((c) => {
      const n = c.charCodeAt(0);
      return n < 0x20 || n === 0x7f ? `\\x${n.toString(16).padStart(2, "0")}` : c;
    })
    .join("");

async function refuse(
  deps: PasswordSignInDeps,
  ctx: RequestContext,
  eventContext: Ctx,
  provider: string,
  username: string,
  reason: string,
): Promise<void> {
  await deps.recordEvent(
    { kind: "login.failed", provider, reason, attemptedUsername: printable(username.slice(0, 256)) },
    eventContext(ctx),
  );
}

async function throttled(
  deps: PasswordSignInDeps,
  ctx: RequestContext,
  eventContext: Ctx,
  provider: string,
  key: string,
  username: string,
): Promise<void> {
  const address = ctx.req.socket.remoteAddress ?? "";
  const verdict = deps.throttle.check(key, address);
  if (verdict.kind === "allowed") return;
  ctx.log.warn({ username, provider, address, by: verdict.by }, "sign-in throttled");
  await refuse(deps, ctx, eventContext, provider, username, "throttled");
  ctx.res.setHeader("Retry-After", String(Math.ceil(verdict.retryAfterMs / 1000)));
  throw new HttpError("TooManyRequests", "too many failed sign-ins: try again later");
}

async function local(
  deps: PasswordSignInDeps,
  ctx: RequestContext,
  c: Credentials,
  eventContext: Ctx,
): Promise<PasswordSignIn> {
  const { username, password } = c;
  const address = ctx.req.socket.remoteAddress ?? "";
  await throttled(deps, ctx, eventContext, "local", username, username);
  const user = await deps.store.users.get(username);
  const ok = await verifyPassword(user?.passwordHash ?? (await dummyHash()), password);
  if (!user || !ok || !user.passwordHash || user.disabled) {
    deps.throttle.fail(username, address);
    ctx.log.info({ username, address }, "sign-in failed");
    await refuse(deps, ctx, eventContext, "local", username, user?.disabled ? "user disabled" : INVALID);
    throw new HttpError("Unauthorized", INVALID);
  }
  if (deps.totp && (await deps.totp.enrolled(user))) {
    const code = (c.totp ?? "").trim();
    if (code === "") {
      // The password was right: not counted as a failure, but audited.
      await refuse(deps, ctx, eventContext, "local", username, "one-time code required");
      const message = "enter the one-time code from your authenticator app (field totp)";
      throw HttpError.of(
        failure("Unauthorized", message, { causes: [{ reason: TOTP_REQUIRED, field: "totp", message }] }),
      );
    }
    if ((await deps.totp.verify(user, code)) !== "ok") {
      deps.throttle.fail(username, address);
      ctx.log.info({ username, address }, "sign-in failed: wrong one-time code");
      await refuse(deps, ctx, eventContext, "local", username, "wrong or reused one-time code");
      throw new HttpError("Unauthorized", "invalid one-time code");
    }
  }
  deps.throttle.succeed(username);
  return { user, provider: "local" };
}

async function viaProvider(
  deps: PasswordSignInDeps,
  ctx: RequestContext,
  c: Credentials,
  provider: string,
  eventContext: Ctx,
): Promise<PasswordSignIn> {
  const { username, password } = c;
  const address = ctx.req.socket.remoteAddress ?? "";
  const p = await deps.providers?.password(provider);
  if (!p) {
    await refuse(deps, ctx, eventContext, provider, username, "no such password provider");
    throw new HttpError(
      "BadRequest",
      `${JSON.stringify(provider)} is not an identity provider that signs in with a password`,
    );
  }
  // Directories match names ignoring case, compatibility forms and surrounding or repeated spaces
  // (RFC 4518 string preparation): " ALICE " finds alice, so it must share alice's count.
  const key = `${provider}/${username.normalize("NFKC").toLowerCase().trim().replace(/\s+/g, " ")}`;
  await throttled(deps, ctx, eventContext, provider, key, username);
  let identity: ExternalIdentity | undefined;
  try {
    identity = await p.authenticate(username, password, AbortSignal.timeout(PROVIDER_DEADLINE_MS));
  } catch (e) {
    if (!(e instanceof ProviderUnavailableError)) throw e;
    ctx.log.warn({ provider, username, error: e.message }, "identity provider unavailable");
    await refuse(deps, ctx, eventContext, provider, username, "provider unavailable");
    throw new HttpError(
      "ServiceUnavailable",
      `the identity provider ${JSON.stringify(provider)} cannot be reached: try again later (administrators: gatehouse idp test ${provider})`,
    );
  }
  if (!identity) {
    deps.throttle.fail(key, address);
    ctx.log.info({ provider, username, address }, "sign-in failed");
    await refuse(deps, ctx, eventContext, provider, username, INVALID);
    throw new HttpError("Unauthorized", INVALID);
  }
  const now = deps.now?.() ?? Date.now();
  const r = await upsertExternalUser(deps.store, identity, now);
  if (r.kind === "refused") {
    ctx.log.warn({ provider, username: identity.username, reason: r.reason }, "provider sign-in refused");
    await refuse(deps, ctx, eventContext, provider, username, r.reason);
    throw new HttpError("Forbidden", `sign-in refused: ${r.reason}`);
  }
  deps.throttle.succeed(key);
  return {
    user: r.user,
    provider,
    ...(deps.upstream ? { sealedIdentity: deps.upstream.seal(identity) } : {}),
  };
}
