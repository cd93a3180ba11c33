import { randomUUID } from "node:crypto";
import type { Router } from "../router.js";
import type { Store, UserRecord } from "../../store/index.js";
import { hashPassword } from "../../identity/index.js";
import { readJSONObject } from "../body.js";
import { HttpError } from "../errors.js";
import { writeJSON } from "../respond.js";
import { API_PREFIX, GROUP_VERSION } from "./group.js";
import { requireAdmin } from "./admin-only.js";
import { parseListOptions } from "./list-options.js";

/** DNS-1123 subdomain-ish names, as Kubernetes object names: no slashes, no path tricks. */
const NAME = /^[a-z0-9]([-a-z0-9.@_]*[a-z0-9])?$/;

export function toUserObject(u: UserRecord): Record<string, unknown> {
  return {
    apiVersion: GROUP_VERSION,
    kind: "User",
    metadata: { name: u.name, uid: u.uid, creationTimestamp: new Date(u.createdAt).toISOString() },
    spec: { groups: u.groups, disabled: u.disabled },
    // The password hash never leaves the server; only whether one is set.
    status: { hasPassword: u.passwordHash !== null },
  };
}

export function addUserRoutes(
  router: Router,
  deps: { store: Store; maxBody: number; now: () => number },
): void {
  const base = `${API_PREFIX}/users`;
  router.add("GET", base, async (ctx) => {
    requireAdmin(ctx, "list", "users");
    const opts = parseListOptions(ctx.url);
    const page = await deps.store.users.list(opts.limit, opts.continue);
    writeJSON(ctx.res, 200, {
      apiVersion: GROUP_VERSION,
      kind: "UserList",
      metadata: page.continue ? { continue: page.continue } : {},
      items: page.items.map(toUserObject),
    });
  });
  router.add("GET", `${base}/:name`, async (ctx, p) => {
    requireAdmin(ctx, "get", "users", p["name"]);
    const u = await deps.store.users.get(p["name"] as string);
    if (!u) throw new HttpError("NotFound", `users.gatehouse.io ${JSON.stringify(p["name"])} not found`);
    writeJSON(ctx.res, 200, toUserObject(u));
  });
  router.add("POST", base, async (ctx) => {
    requireAdmin(ctx, "create", "users");
    const body = await readJSONObject(ctx.req, deps.maxBody);
    const { name, groups, password, disabled } = validateUser(body);
    const now = deps.now();
    const rec: UserRecord = {
      name,
      uid: randomUUID(),
      passwordHash: password === undefined ? null : await hashPassword(password),
      disabled,
      groups,
      createdAt: now,
      updatedAt: now,
    };
    await deps.store.users.create(rec);
    writeJSON(ctx.res, 201, toUserObject(rec));
  });
  router.add("DELETE", `${base}/:name`, async (ctx, p) => {
    requireAdmin(ctx, "delete", "users", p["name"]);
    const name = p["name"] as string;
    if (name === ctx.user?.username)
      throw new HttpError("Forbidden", "you cannot delete the user you are signed in as");
    await deps.store.users.delete(name);
    writeJSON(ctx.res, 200, {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Success",
      details: { name, group: "gatehouse.io", kind: "users" },
    });
  });
}

function validateUser(body: Record<string, unknown>): {
  name: string;
  groups: string[];
  password?: string;
  disabled: boolean;
} {
  const problems: string[] = [];
  if (body["apiVersion"] !== GROUP_VERSION) problems.push(`apiVersion: must be ${GROUP_VERSION}`);
  if (body["kind"] !== "User") problems.push("kind: must be User");
  const meta = (body["metadata"] ?? {}) as Record<string, unknown>;
  const name = meta["name"];
  if (typeof name !== "string" || !NAME.test(name) || name.length > 253)
    problems.push("metadata.name: must be a lower-case name of at most 253 characters");
  const spec = (body["spec"] ?? {}) as Record<string, unknown>;
  const groups = spec["groups"] ?? [];
  if (!Array.isArray(groups) || !groups.every((g) => typeof g === "string" && g !== ""))
    problems.push("spec.groups: must be a list of group names");
  const password = spec["password"];
  if (password !== undefined && (typeof password !== "string" || password.length < 12))
    problems.push("spec.password: must be at least 12 characters");
  const disabled = spec["disabled"] ?? false;
  if (typeof disabled !== "boolean") problems.push("spec.disabled: must be true or false");
  if (problems.length > 0) throw new HttpError("Invalid", `User is invalid: ${problems.join("; ")}`);
  return {
    name: name as string,
    groups: groups as string[],
    disabled: disabled as boolean,
    ...(password !== undefined ? { password: password as string } : {}),
  };
}
