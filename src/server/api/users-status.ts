import type { Router } from "../router.js";
import type { Store } from "../../store/index.js";
import { readJSONObject } from "../body.js";
import { HttpError } from "../errors.js";
import { writeJSON } from "../respond.js";
import { API_PREFIX } from "./group.js";
import { requireAdmin } from "./admin-only.js";
import { toUserObject } from "./users.js";
import { callerEventContext } from "./auth.js";
import type { GatehouseEvent, GatehouseEventContext } from "../../core/audit/index.js";

export interface UserStatusDeps {
  store: Store;
  maxBody: number;
  now: () => number;
  /** End every session of the user (their tokens stop working at the gateway at once). */
  revokeSessions(user: string, reason: string): Promise<string[]>;
  /** Records the sessions ended (`token.revoked`) in the audit log. */
  recordEvent: (e: GatehouseEvent, ctx: GatehouseEventContext) => Promise<void>;
}

/**
 * PATCH /apis/gatehouse.io/v1alpha1/users/NAME with a JSON merge patch of `spec.disabled` and
 * `spec.groups` (admins only). Disabling a user ends all their sessions in the same request, and
 * their access keys and tokens are refused from the next request on: the authenticators read the
 * user on every request (access keys) or check the session is live (tokens).
 */
export function addUserStatusRoutes(router: Router, deps: UserStatusDeps): void {
  router.add("PATCH", `${API_PREFIX}/users/:name`, async (ctx, p) => {
    const name = p["name"] as string;
    requireAdmin(ctx, "patch", "users", name);
    const body = await readJSONObject(ctx.req, deps.maxBody);
    const patch = parsePatch(body);
    if (patch.disabled === true && name === ctx.user?.username)
      throw new HttpError("Forbidden", "you cannot disable the user you are signed in as");
    const before = await deps.store.users.get(name);
    if (!before) throw new HttpError("NotFound", `users.gatehouse.io ${JSON.stringify(name)} not found`);
    await deps.store.users.update(name, patch, deps.now());
    if (patch.disabled === true) {
      const reason = "user disabled";
      for (const id of await deps.revokeSessions(name, reason))
        await deps.recordEvent(
          { kind: "token.revoked", tokenId: id, subject: name, reason },
          callerEventContext(ctx),
        );
    }
    const after = await deps.store.users.get(name);
    if (!after) throw new HttpError("NotFound", `users.gatehouse.io ${JSON.stringify(name)} not found`);
    writeJSON(ctx.res, 200, toUserObject(after));
  });
}

function parsePatch(body: Record<string, unknown>): { disabled?: boolean; groups?: string[] } {
  const problems: string[] = [];
  for (const k of Object.keys(body))
    if (!["apiVersion", "kind", "metadata", "spec"].includes(k)) problems.push(`${k}: unknown field`);
  const spec = body["spec"];
  if (spec === undefined || typeof spec !== "object" || spec === null || Array.isArray(spec))
    throw new HttpError("BadRequest", "spec: required, an object with disabled and/or groups");
  const s = spec as Record<string, unknown>;
  const out: { disabled?: boolean; groups?: string[] } = {};
  for (const k of Object.keys(s))
    if (k !== "disabled" && k !== "groups") problems.push(`spec.${k}: cannot be changed with PATCH`);
  if (s["disabled"] !== undefined) {
    if (typeof s["disabled"] !== "boolean") problems.push("spec.disabled: must be true or false");
    else out.disabled = s["disabled"];
  }
  if (s["groups"] !== undefined) {
    const g = s["groups"];
    if (!Array.isArray(g) || !g.every((x) => typeof x === "string" && x !== ""))
      problems.push("spec.groups: must be a list of non-empty strings");
    else out.groups = g as string[];
  }
  if (problems.length > 0) throw new HttpError("BadRequest", `invalid patch: ${problems.join("; ")}`);
  return out;
}
