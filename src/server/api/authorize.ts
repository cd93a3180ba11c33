import type { Router } from "../router.js";
import type { RequestContext } from "../context.js";
import { CLI_CLIENT_ID, isLoopbackRedirect, type AuthorizationCodes } from "../../identity/index.js";
import { readBody } from "../body.js";
import { HttpError } from "../errors.js";
import { checkPassword, type AuthRouteDeps } from "./auth.js";
import { escape, writePage } from "./html.js";

export const AUTHORIZE_PAGE = "/authorize";

interface AuthorizeParams {
  redirectUri: string;
  challenge: string;
  state: string;
}

/**
 * Check the request's parameters. Until client and redirect URI are known good, problems are shown
 * on the page and never redirected (RFC 6749 §4.1.2.1): an open redirector is a phishing tool.
 */
function validate(p: URLSearchParams): AuthorizeParams | string {
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

function form(a: AuthorizeParams, message = ""): string {
  const hidden = (n: string, v: string): string => `<input type="hidden" name="${n}" value="${escape(v)}">`;
  return [
    message ? `<p role="alert">${escape(message)}</p>` : "",
    "<p>Sign in to Gatehouse for the <strong>gatehouse</strong> command line on this computer.</p>",
    `<form method="post" action="${AUTHORIZE_PAGE}">`,
    hidden("client_id", CLI_CLIENT_ID),
    hidden("response_type", "code"),
    hidden("redirect_uri", a.redirectUri),
    hidden("code_challenge", a.challenge),
    hidden("code_challenge_method", "S256"),
    hidden("state", a.state),
    '<label>User <input name="username" autocomplete="username" required></label><br>',
    '<label>Password <input name="password" type="password" autocomplete="current-password" required></label><br>',
    "<button>Sign in</button></form>",
  ].join("");
}

const loopbackTargets = ["http://127.0.0.1:*", "http://[::1]:*"];

/**
 * Authorization code + PKCE for the CLI's browser sign-in (RFC 6749 §4.1, RFC 7636, RFC 8252): the
 * CLI listens on a loopback port, the person signs in here, the code goes back on the redirect and is
 * redeemed once with the verifier at /token. Stateless between requests: no cookies to ride.
 */
export function addAuthorizeRoutes(
  router: Router,
  deps: Pick<AuthRouteDeps, "store" | "throttle" | "recordEvent"> & { codes: AuthorizationCodes },
): void {
  router.add("GET", AUTHORIZE_PAGE, async (ctx) => {
    const a = validate(ctx.url.searchParams);
    if (typeof a === "string") return writePage(ctx, 400, `<p role="alert">${escape(a)}</p>`);
    writePage(ctx, 200, form(a), loopbackTargets);
  });

  router.add("POST", AUTHORIZE_PAGE, async (ctx: RequestContext) => {
    const type = String(ctx.req.headers["content-type"] ?? "")
      .split(";")[0]
      ?.trim();
    if (type !== "application/x-www-form-urlencoded")
      throw new HttpError("UnsupportedMediaType", "use an HTML form (application/x-www-form-urlencoded)");
    const f = new URLSearchParams((await readBody(ctx.req, 16 * 1024)).toString("utf8"));
    const a = validate(f);
    if (typeof a === "string") return writePage(ctx, 400, `<p role="alert">${escape(a)}</p>`);
    let user;
    try {
      user = await checkPassword(deps, ctx, f.get("username") ?? "", f.get("password") ?? "");
    } catch (e) {
      if (!(e instanceof HttpError)) throw e;
      return writePage(ctx, e.reason === "TooManyRequests" ? 429 : 401, form(a, e.message), loopbackTargets);
    }
    const code = await deps.codes.issue(user.name, a.challenge, a.redirectUri, "gatehouse-cli (browser)");
    const to = new URL(a.redirectUri);
    to.searchParams.set("code", code);
    to.searchParams.set("state", a.state);
    ctx.log.info({ username: user.name }, "authorization code issued");
    ctx.res.statusCode = 303;
    ctx.res.setHeader("Location", to.toString());
    ctx.res.setHeader("Cache-Control", "no-store");
    ctx.res.setHeader("Referrer-Policy", "no-referrer");
    ctx.res.end();
  });
}
