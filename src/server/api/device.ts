import type { Router } from "../router.js";
import { formatUserCode, RateLimit, type DeviceGrants, type Issuer } from "../../identity/index.js";
import { readBody, readJSONObject } from "../body.js";
import { HttpError } from "../errors.js";
import { writeJSON } from "../respond.js";
import { API_PREFIX } from "./group.js";
import { escape, writePage } from "./html.js";
import { checkPassword, type AuthRouteDeps } from "./auth.js";

export const DEVICE_PAGE = "/device";

function form(userCode: string, client: string | undefined, message = ""): string {
  return [
    message ? `<p role="alert">${escape(message)}</p>` : "",
    client
      ? `<p>Sign in to approve <strong>${escape(client)}</strong>. Only continue if you started this sign-in yourself.</p>`
      : "<p>Enter the code shown by the device, and sign in to approve it.</p>",
    `<form method="post" action="${DEVICE_PAGE}">`,
    `<label>Code <input name="user_code" value="${escape(userCode)}" autocomplete="off" required></label><br>`,
    '<label>User <input name="username" autocomplete="username" required></label><br>',
    '<label>Password <input name="password" type="password" autocomplete="current-password" required></label><br>',
    '<label>One-time code (if you use one) <input name="totp" inputmode="numeric" autocomplete="one-time-code"></label><br>',
    '<button name="action" value="approve">Approve</button> <button name="action" value="deny">Deny</button>',
    "</form>",
  ].join("");
}

/**
 * The device authorization grant (RFC 8628): the device asks for a code, the person approves it on
 * /device with their password, the device polls /token. The verification page sets no cookies and
 * keeps no state between requests, so there is no session to ride (CSRF) and nothing to frame.
 */
export function addDeviceRoutes(
  router: Router,
  deps: Pick<AuthRouteDeps, "store" | "throttle" | "maxBody" | "recordEvent" | "totp"> & {
    devices: DeviceGrants;
    issuer: Issuer;
  },
  now: () => number,
): void {
  // Anyone may start a device sign-in, and each one is stored: a few per address per minute.
  const starts = new RateLimit(now, 10, 60_000);
  router.add("POST", `${API_PREFIX}/device/authorize`, async (ctx) => {
    if (!starts.take(ctx.req.socket.remoteAddress ?? "")) {
      ctx.res.setHeader("Retry-After", "60");
      throw new HttpError("TooManyRequests", "too many device sign-ins from this address: try again later");
    }
    const body = await readJSONObject(ctx.req, deps.maxBody);
    const client = typeof body["client"] === "string" ? body["client"] : "";
    const a = await deps.devices.start(client);
    const uri = `${deps.issuer.opts.issuer}${DEVICE_PAGE}`;
    writeJSON(ctx.res, 201, {
      device_code: a.deviceCode,
      user_code: formatUserCode(a.userCode),
      verification_uri: uri,
      verification_uri_complete: `${uri}?user_code=${formatUserCode(a.userCode)}`,
      expires_in: a.expiresIn,
      interval: a.interval,
    });
  });

  router.add("GET", DEVICE_PAGE, async (ctx) => {
    const code = ctx.url.searchParams.get("user_code") ?? "";
    const pending = code ? await deps.devices.pending(code) : undefined;
    writePage(ctx, 200, form(code, pending?.client));
  });

  router.add("POST", DEVICE_PAGE, async (ctx) => {
    const type = String(ctx.req.headers["content-type"] ?? "")
      .split(";")[0]
      ?.trim();
    if (type !== "application/x-www-form-urlencoded")
      throw new HttpError("UnsupportedMediaType", "use an HTML form (application/x-www-form-urlencoded)");
    const f = new URLSearchParams((await readBody(ctx.req, 16 * 1024)).toString("utf8"));
    const code = f.get("user_code") ?? "";
    const pending = await deps.devices.pending(code);
    if (!pending) return writePage(ctx, 400, form(code, undefined, "That code is unknown or has expired."));
    let user;
    try {
      const totp = f.get("totp") ?? "";
      user = await checkPassword(
        deps,
        ctx,
        f.get("username") ?? "",
        f.get("password") ?? "",
        "",
        totp === "" ? undefined : totp,
      );
    } catch (e) {
      if (!(e instanceof HttpError)) throw e;
      return writePage(
        ctx,
        e.reason === "TooManyRequests" ? 429 : 401,
        form(code, pending.client, e.message),
      );
    }
    const approve = f.get("action") !== "deny";
    if (!(await deps.devices.decide(code, user.name, approve)))
      return writePage(ctx, 400, form(code, undefined, "That code is unknown or has expired."));
    ctx.log.info({ username: user.name, client: pending.client, approve }, "device code decided");
    writePage(
      ctx,
      200,
      `<p>${approve ? "Approved" : "Denied"}: ${escape(pending.client)}. You can close this window.</p>`,
    );
  });
}
