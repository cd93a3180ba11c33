import type { Router } from "../router.js";
import type { RequestContext } from "../context.js";
import type { Store } from "../../store/index.js";
import type { GatehouseEvent, GatehouseEventContext } from "../../core/audit/index.js";
import { ADMIN_GROUP } from "../../identity/index.js";
import type { TotpEnrolments } from "../../identity/totp.js";
import { HttpError } from "../errors.js";
import { writeJSON } from "../respond.js";
import { requireAdmin } from "./admin-only.js";
import { API_PREFIX, GROUP_VERSION } from "./group.js";
import { eventContext } from "./auth.js";

export interface TotpRouteDeps {
  store: Store;
  totp: TotpEnrolments;
  /** The issuer name shown in authenticator apps. */
  issuerName: string;
  recordEvent: (e: GatehouseEvent, ctx: GatehouseEventContext) => Promise<void>;
}

/** Administrators may act on anyone; a user on themself. */
function requireAdminOrSelf(ctx: RequestContext, verb: string, name: string): void {
  const u = ctx.user;
  if (u && u.username === name && !u.groups.includes(ADMIN_GROUP)) return;
  requireAdmin(ctx, verb, "users/totp", name);
}

/**
 * TOTP enrolment of local users: POST .../users/NAME/totp answers the secret and otpauth:// URI once
 * (only the sealed secret is kept); DELETE removes it. Users without a password (from identity
 * providers) use their provider's second factor instead.
 */
export function addTotpRoutes(router: Router, deps: TotpRouteDeps): void {
  const path = `${API_PREFIX}/users/:name/totp`;
  const localUser = async (name: string) => {
    const u = await deps.store.users.get(name);
    if (!u) throw new HttpError("NotFound", `users.gatehouse.io ${JSON.stringify(name)} not found`);
    if (u.passwordHash === null)
      throw new HttpError(
        "BadRequest",
        `${name} signs in through an identity provider: a second factor is configured there, not in Gatehouse`,
      );
    return u;
  };

  router.add("POST", path, async (ctx, p) => {
    const name = p["name"] as string;
    requireAdminOrSelf(ctx, "create", name);
    const user = await localUser(name);
    const { secret, uri } = await deps.totp.enroll(user, deps.issuerName);
    ctx.log.info({ owner: name }, "TOTP enrolled");
    const actor = ctx.user && (await deps.store.users.get(ctx.user.username));
    await deps.recordEvent({ kind: "user.updated", username: name }, eventContext(ctx, actor));
    ctx.res.setHeader("Cache-Control", "no-store");
    writeJSON(ctx.res, 201, {
      apiVersion: GROUP_VERSION,
      kind: "TOTPEnrollment",
      metadata: { name },
      // Shown this once: only the sealed secret is stored.
      secret,
      uri,
    });
  });

  router.add("DELETE", path, async (ctx, p) => {
    const name = p["name"] as string;
    requireAdminOrSelf(ctx, "delete", name);
    if (!(await deps.totp.disable(name)))
      throw new HttpError("NotFound", `user ${JSON.stringify(name)} has no TOTP enrolment`);
    ctx.log.info({ owner: name }, "TOTP disabled");
    const actor = ctx.user && (await deps.store.users.get(ctx.user.username));
    await deps.recordEvent({ kind: "user.updated", username: name }, eventContext(ctx, actor));
    writeJSON(ctx.res, 200, {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Success",
      details: { name, group: "gatehouse.io", kind: "users/totp" },
    });
  });
}
