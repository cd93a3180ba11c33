import { createHash } from "node:crypto";
import type { Logger } from "pino";
import type { Router } from "../router.js";
import type { RequestContext } from "../context.js";
import type { AuthorizationCodes, Issuer } from "../../identity/index.js";
import {
  PendingSignIns,
  ProviderRefusedError,
  ProviderUnavailableError,
  upsertExternalUser,
  type ProviderRegistry,
  type UpstreamSessions,
} from "../../identity/providers/index.js";
import type { Store } from "../../store/index.js";
import { readBody } from "../body.js";
import { eventContext, type AuthRouteDeps } from "./auth.js";
import { redirectToLoopback, validateAuthorize } from "./authorize.js";
import { readCookie, setHostCookie } from "./cookies.js";
import { escape, writePage } from "./html.js";

export interface IdpRouteDeps extends Pick<AuthRouteDeps, "recordEvent"> {
  store: Store;
  issuer: Issuer;
  codes: AuthorizationCodes;
  providers: ProviderRegistry;
  pending: PendingSignIns;
  upstream: UpstreamSessions;
  log: Logger;
  now: () => number;
}

/** One cookie per sign-in (named from its state), so two sign-ins in one browser do not collide. */
const bindingCookie = (state: string): string =>
  `__Host-gatehouse-signin-${createHash("sha256").update(state).digest("hex").slice(0, 16)}`;

const AGAIN = "Go back to the terminal and run <code>gatehouse login</code> again.";

/**
 * Sign-in through a redirect provider (OIDC, OAuth2, GitHub, SAML):
 *   GET /idp/NAME/start?<the CLI's authorize parameters>  → the provider's sign-in page
 *   GET|POST /idp/NAME/callback                          → 303 to the CLI's loopback redirect with a code
 * The CLI's parameters are checked exactly as /authorize does (loopback redirect only, PKCE S256)
 * before anything is stored or redirected; what the callback needs is kept server-side (pending.ts).
 * The provider's calls are bounded by its timeoutSeconds; failures are pages that say what to do.
 */
export function addIdpRoutes(router: Router, deps: IdpRouteDeps): void {
  const callbackUrl = (name: string): string =>
    `${String(deps.issuer.discovery()["issuer"]).replace(/\/+$/, "")}/idp/${encodeURIComponent(name)}/callback`;

  const fail = async (
    ctx: RequestContext,
    provider: string,
    code: number,
    reason: string,
    shown: string,
  ): Promise<void> => {
    ctx.log.info({ provider, reason }, "provider sign-in failed");
    await deps.recordEvent(
      { kind: "login.failed", provider, reason: reason.slice(0, 300) },
      eventContext(ctx),
    );
    writePage(ctx, code, `<p role="alert">${shown}</p><p>${AGAIN}</p>`);
  };

  router.add("GET", "/idp/:name/start", async (ctx, p) => {
    const name = p["name"] as string;
    const a = validateAuthorize(ctx.url.searchParams);
    if (typeof a === "string") return writePage(ctx, 400, `<p role="alert">${escape(a)}</p>`);
    const provider = await deps.providers.redirect(name);
    if (!provider)
      return writePage(
        ctx,
        404,
        `<p role="alert">There is no identity provider ${escape(JSON.stringify(name))} to sign in with.</p><p>${AGAIN}</p>`,
      );
    const info = (await deps.providers.inspect(name))?.info;
    const timeoutMs = info?.timeoutMs ?? 10_000;
    const { state, binding } = PendingSignIns.fresh();
    let start;
    try {
      start = await provider.begin(callbackUrl(name), state, AbortSignal.timeout(timeoutMs));
    } catch (e) {
      return failure(ctx, name, provider.displayName, timeoutMs, e);
    }
    await deps.pending.save(state, binding, { provider: name, pending: start.pending, cli: a });
    setHostCookie(ctx.res, bindingCookie(state), binding, {
      maxAgeSeconds: 600,
      // Sent on the provider's cross-site POST back (SAML); it only binds, it authorizes nothing.
      sameSite: "None",
    });
    ctx.res.statusCode = 303;
    ctx.res.setHeader("Location", start.location);
    ctx.res.setHeader("Cache-Control", "no-store");
    ctx.res.setHeader("Referrer-Policy", "no-referrer");
    ctx.res.end();
  });

  const callback = async (ctx: RequestContext, name: string, params: URLSearchParams): Promise<void> => {
    const state = params.get("state") ?? params.get("RelayState") ?? "";
    if (state === "")
      return fail(ctx, name, 400, "callback without state", "This sign-in link is incomplete (no state).");
    const taken = await deps.pending.take(state, name, readCookie(ctx.req, bindingCookie(state)));
    if (taken.kind !== "ok") {
      const why = {
        unknown: "unknown or already used state",
        expired: "sign-in expired",
        "wrong-provider": "state belongs to another provider",
        "wrong-browser": "sign-in started in another browser",
      }[taken.kind];
      return fail(
        ctx,
        name,
        400,
        `callback refused: ${why}`,
        taken.kind === "expired"
          ? "This sign-in took too long and expired."
          : "This sign-in is not known here: it was already used, or it was started in another browser.",
      );
    }
    ctx.res.setHeader(
      "Set-Cookie",
      `${bindingCookie(state)}=; Path=/; Secure; HttpOnly; SameSite=None; Max-Age=0`,
    );
    const { signIn } = taken;
    const provider = await deps.providers.redirect(name);
    if (!provider)
      return fail(
        ctx,
        name,
        404,
        "provider removed or disabled during sign-in",
        "This identity provider is no longer available.",
      );
    const timeoutMs = (await deps.providers.inspect(name))?.info.timeoutMs ?? 10_000;
    let identity;
    try {
      identity = await provider.complete(
        callbackUrl(name),
        params,
        signIn.pending,
        AbortSignal.timeout(timeoutMs),
      );
    } catch (e) {
      return failure(ctx, name, provider.displayName, timeoutMs, e);
    }
    const up = await upsertExternalUser(deps.store, identity, deps.now());
    if (up.kind === "refused")
      return fail(
        ctx,
        name,
        403,
        `user refused: ${up.reason}`,
        `You signed in at ${escape(provider.displayName)}, but Gatehouse cannot let ${escape(identity.username)} in: ${escape(up.reason)}. Ask a Gatehouse administrator.`,
      );
    const code = await deps.codes.issue(
      up.user.name,
      signIn.cli.challenge,
      signIn.cli.redirectUri,
      `gatehouse-cli (browser, ${name})`,
      { provider: name, sealedIdentity: deps.upstream.seal(identity) },
    );
    ctx.log.info(
      { provider: name, username: up.user.name },
      "authorization code issued after provider sign-in",
    );
    redirectToLoopback(ctx, signIn.cli, code);
  };

  async function failure(
    ctx: RequestContext,
    name: string,
    display: string,
    timeoutMs: number,
    e: unknown,
  ): Promise<void> {
    if (e instanceof ProviderUnavailableError || (e instanceof Error && e.name === "TimeoutError"))
      return fail(
        ctx,
        name,
        503,
        `provider unavailable: ${e.message}`,
        `${escape(display)} did not answer within ${Math.round(timeoutMs / 1000)} s. Try again later; if it keeps failing, tell a Gatehouse administrator (gatehouse idp test ${escape(name)}).`,
      );
    if (e instanceof ProviderRefusedError)
      return fail(
        ctx,
        name,
        401,
        `refused: ${e.message}`,
        `Sign-in with ${escape(display)} failed: ${escape(e.message)}.`,
      );
    throw e;
  }

  router.add("GET", "/idp/:name/callback", async (ctx, p) =>
    callback(ctx, p["name"] as string, ctx.url.searchParams),
  );
  router.add("POST", "/idp/:name/callback", async (ctx, p) => {
    const body = new URLSearchParams((await readBody(ctx.req, 256 * 1024)).toString("utf8"));
    return callback(ctx, p["name"] as string, body);
  });
}
