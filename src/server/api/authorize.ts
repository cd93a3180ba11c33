import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Router } from "../router.js";
import type { RequestContext } from "../context.js";
import { CLI_CLIENT_ID, isLoopbackRedirect, type AuthorizationCodes } from "../../identity/index.js";
import type { ProviderInfo, ProviderRegistry } from "../../identity/providers/index.js";
import { readBody } from "../body.js";
import { HttpError } from "../errors.js";
import { eventContext } from "./auth.js";
import { signInWithPassword, type PasswordSignInDeps } from "./password-signin.js";
import { readCookie, setHostCookie } from "./cookies.js";
import { escape, writePage } from "./html.js";

export const AUTHORIZE_PAGE = "/authorize";

/** The CLI's authorization request, once validated. */
export interface AuthorizeParams {
  redirectUri: string;
  challenge: string;
  state: string;
}

/**
 * Check the request's parameters. Until client and redirect URI are known good, problems are shown
 * on the page and never redirected (RFC 6749 §4.1.2.1): an open redirector is a phishing tool.
 */
export function validateAuthorize(p: URLSearchParams): AuthorizeParams | string {
  if (p.get("client_id") !== CLI_CLIENT_ID) return "unknown client";
  const redirectUri = p.get("redirect_uri") ?? "";
  if (!isLoopbackRedirect(redirectUri)) return "the redirect URI must be http://127.0.0.1:PORT/PATH";
  if (p.get("response_type") !== "code") return "response_type must be code";
  if (p.get("code_challenge_method") !== "S256") return "PKCE with code_challenge_method S256 is required";
  const challenge = p.get("code_challenge") ?? "";
  if (!/^[A-Za-z0-9_-]{43}$/.test(challenge)) return "code_challenge must be a base64url SHA-256";
  const state = p.get("state") ?? "";
  if (state.length < 16 || state.length > 200) return "state must be 16 to 200 characters";
  return { redirectUri, challenge, state };
}

/** The CLI's parameters as a query string (for the provider buttons' links). */
export function authorizeQuery(a: AuthorizeParams): string {
  return new URLSearchParams({
    client_id: CLI_CLIENT_ID,
    response_type: "code",
    redirect_uri: a.redirectUri,
    code_challenge: a.challenge,
    code_challenge_method: "S256",
    state: a.state,
  }).toString();
}

/**
 * Anti-CSRF for the password form (double-submit cookie bound to the flow): a random value in a
 * `__Host-` cookie (SameSite=Strict, HttpOnly) and, in the form, SHA-256 of that value and the CLI's
 * state. A cross-site POST carries no cookie (SameSite) and its author cannot read it, so it cannot
 * produce the field; a field from one flow does not fit another.
 */
const CSRF_COOKIE = "__Host-gatehouse-csrf";
const csrfField = (cookie: string, state: string): string =>
  createHash("sha256").update(`${cookie}\0${state}`).digest("base64url");

function csrfCookie(ctx: RequestContext): string {
  const have = readCookie(ctx.req, CSRF_COOKIE);
  if (have !== undefined && /^[A-Za-z0-9_-]{43}$/.test(have)) return have;
  const fresh = randomBytes(32).toString("base64url");
  setHostCookie(ctx.res, CSRF_COOKIE, fresh, { maxAgeSeconds: 3600, sameSite: "Strict" });
  return fresh;
}

function csrfOk(ctx: RequestContext, state: string, field: string | null): boolean {
  const cookie = readCookie(ctx.req, CSRF_COOKIE);
  if (cookie === undefined || field === null) return false;
  const want = Buffer.from(csrfField(cookie, state));
  const got = Buffer.from(field);
  return want.length === got.length && timingSafeEqual(want, got);
}

function page(a: AuthorizeParams, csrf: string, providers: ProviderInfo[], message = ""): string {
  const hidden = (n: string, v: string): string => `<input type="hidden" name="${n}" value="${escape(v)}">`;
  const redirect = providers.filter((p) => p.flow === "redirect");
  const password = providers.filter((p) => p.flow === "password");
  const query = authorizeQuery(a);
  return [
    message ? `<p role="alert">${escape(message)}</p>` : "",
    "<p>Sign in to Gatehouse for the <strong>gatehouse</strong> command line on this computer.</p>",
    // Links, not forms: the start answers with a redirect to the provider, which form-action forbids.
    ...redirect.map(
      (p) =>
        `<p><a class="provider" href="/idp/${encodeURIComponent(p.name)}/start?${escape(query)}">Sign in with ${escape(p.displayName)}</a></p>`,
    ),
    redirect.length > 0 ? "<p>or with a user name and password:</p>" : "",
    `<form method="post" action="${AUTHORIZE_PAGE}">`,
    hidden("client_id", CLI_CLIENT_ID),
    hidden("response_type", "code"),
    hidden("redirect_uri", a.redirectUri),
    hidden("code_challenge", a.challenge),
    hidden("code_challenge_method", "S256"),
    hidden("state", a.state),
    hidden("csrf", csrfField(csrf, a.state)),
    password.length > 0
      ? `<label>Sign in with <select name="provider"><option value="">Gatehouse (local user)</option>${password
          .map((p) => `<option value="${escape(p.name)}">${escape(p.displayName)}</option>`)
          .join("")}</select></label><br>`
      : "",
    '<label>User <input name="username" autocomplete="username" required></label><br>',
    '<label>Password <input name="password" type="password" autocomplete="current-password" required></label><br>',
    '<label>One-time code (if you use one) <input name="totp" inputmode="numeric" autocomplete="one-time-code"></label><br>',
    "<button>Sign in</button></form>",
  ].join("");
}

const loopbackTargets = ["http://127.0.0.1:*", "http://[::1]:*"];

/**
 * Authorization code + PKCE for the CLI's browser sign-in (RFC 6749 §4.1, RFC 7636, RFC 8252): the
 * CLI listens on a loopback port, the person signs in here (or at an identity provider, through
 * /idp/NAME/start), the code goes back on the redirect and is redeemed once with the verifier at
 * /token. The only cookie is the anti-CSRF one; the flow's state lives in the CLI and the code.
 */
export function addAuthorizeRoutes(
  router: Router,
  deps: PasswordSignInDeps & { codes: AuthorizationCodes; providers: ProviderRegistry },
): void {
  const usable = async (): Promise<ProviderInfo[]> =>
    (await deps.providers.list()).filter((p) => !p.disabled && p.flow !== undefined);

  router.add("GET", AUTHORIZE_PAGE, async (ctx) => {
    const a = validateAuthorize(ctx.url.searchParams);
    if (typeof a === "string") return writePage(ctx, 400, `<p role="alert">${escape(a)}</p>`);
    writePage(ctx, 200, page(a, csrfCookie(ctx), await usable()), loopbackTargets);
  });

  router.add("POST", AUTHORIZE_PAGE, async (ctx: RequestContext) => {
    const type = String(ctx.req.headers["content-type"] ?? "")
      .split(";")[0]
      ?.trim();
    if (type !== "application/x-www-form-urlencoded")
      throw new HttpError("UnsupportedMediaType", "use an HTML form (application/x-www-form-urlencoded)");
    const f = new URLSearchParams((await readBody(ctx.req, 16 * 1024)).toString("utf8"));
    const a = validateAuthorize(f);
    if (typeof a === "string") return writePage(ctx, 400, `<p role="alert">${escape(a)}</p>`);
    if (!csrfOk(ctx, a.state, f.get("csrf"))) {
      ctx.log.warn("sign-in form refused: missing or wrong anti-CSRF token");
      return writePage(
        ctx,
        403,
        '<p role="alert">This sign-in form expired or was sent from another site. Open the link the gatehouse command printed again.</p>',
      );
    }
    const totp = f.get("totp") ?? "";
    let signedIn;
    try {
      signedIn = await signInWithPassword(
        deps,
        ctx,
        {
          username: f.get("username") ?? "",
          password: f.get("password") ?? "",
          provider: f.get("provider") ?? "",
          ...(totp !== "" ? { totp } : {}),
        },
        (c) => eventContext(c),
      );
    } catch (e) {
      if (!(e instanceof HttpError)) throw e;
      const code =
        e.reason === "TooManyRequests"
          ? 429
          : e.reason === "ServiceUnavailable"
            ? 503
            : e.reason === "Forbidden"
              ? 403
              : 401;
      return writePage(ctx, code, page(a, csrfCookie(ctx), await usable(), e.message), loopbackTargets);
    }
    const { user } = signedIn;
    const code = await deps.codes.issue(user.name, a.challenge, a.redirectUri, "gatehouse-cli (browser)", {
      provider: signedIn.provider,
      ...(signedIn.sealedIdentity !== undefined ? { sealedIdentity: signedIn.sealedIdentity } : {}),
    });
    redirectToLoopback(ctx, a, code);
    ctx.log.info({ username: user.name, provider: signedIn.provider }, "authorization code issued");
  });
}

/** 303 to the CLI's loopback redirect with the code and the CLI's state. */
export function redirectToLoopback(ctx: RequestContext, a: AuthorizeParams, code: string): void {
  const to = new URL(a.redirectUri);
  to.searchParams.set("code", code);
  to.searchParams.set("state", a.state);
  ctx.res.statusCode = 303;
  ctx.res.setHeader("Location", to.toString());
  ctx.res.setHeader("Cache-Control", "no-store");
  ctx.res.setHeader("Referrer-Policy", "no-referrer");
  ctx.res.end();
}
