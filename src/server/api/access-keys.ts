import { randomUUID } from "node:crypto";
import type { Router } from "../router.js";
import type { Store, StoredObject } from "../../store/index.js";
import { ACCESS_KEY_KIND, ADMIN_GROUP, issueKey, type AccessKeySpec } from "../../identity/index.js";
import type { RequestContext } from "../context.js";
import { readJSONObject } from "../body.js";
import { HttpError } from "../errors.js";
import { writeJSON } from "../respond.js";
import { API_PREFIX, GROUP, GROUP_VERSION } from "./group.js";
import { parseListOptions } from "./list-options.js";

const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

function present(o: StoredObject): Record<string, unknown> {
  return {
    apiVersion: GROUP_VERSION,
    kind: "AccessKey",
    metadata: {
      name: o.name,
      uid: o.uid,
      resourceVersion: String(o.resourceVersion),
      creationTimestamp: new Date(o.createdAt).toISOString(),
    },
    spec: o.body["spec"],
    status: o.body["status"] ?? {},
  };
}

const isAdmin = (ctx: RequestContext): boolean => ctx.user?.groups.includes(ADMIN_GROUP) === true;

/**
 * Access keys: anyone signed in may create, list and revoke their own keys; administrators anyone's.
 * The token is in the create response only; afterwards only its hash exists.
 */
export function addAccessKeyRoutes(
  router: Router,
  deps: { store: Store; maxBody: number; now: () => number },
): void {
  const base = `${API_PREFIX}/accesskeys`;
  const key = (name: string) => ({ kind: ACCESS_KEY_KIND, namespace: "", name });
  const notFound = (name: string) =>
    new HttpError("NotFound", `accesskeys.${GROUP} ${JSON.stringify(name)} not found`);
  const owned = async (ctx: RequestContext, name: string): Promise<StoredObject> => {
    const row = await deps.store.objects.get(key(name));
    if (!row) throw notFound(name);
    if (!isAdmin(ctx) && (row.body["spec"] as AccessKeySpec).user !== ctx.user?.username)
      throw notFound(name);
    return row;
  };

  router.add("POST", base, async (ctx) => {
    const body = await readJSONObject(ctx.req, deps.maxBody);
    const meta = (body["metadata"] ?? {}) as Record<string, unknown>;
    const spec = (body["spec"] ?? {}) as Record<string, unknown>;
    const problems: string[] = [];
    if (body["apiVersion"] !== GROUP_VERSION || body["kind"] !== "AccessKey")
      problems.push(`apiVersion/kind: must be ${GROUP_VERSION} AccessKey`);
    const name = meta["name"];
    if (typeof name !== "string" || !NAME.test(name) || name.length > 100)
      problems.push("metadata.name: must be a lower-case name of at most 100 characters");
    const user = spec["user"] ?? ctx.user?.username;
    if (typeof user !== "string") problems.push("spec.user: must be a user name");
    const clusters = spec["clusters"];
    if (clusters !== undefined && !(Array.isArray(clusters) && clusters.every((c) => typeof c === "string")))
      problems.push("spec.clusters: must be a list of cluster names");
    const expiresAt = spec["expiresAt"];
    if (
      expiresAt !== undefined &&
      (typeof expiresAt !== "string" ||
        Number.isNaN(Date.parse(expiresAt)) ||
        Date.parse(expiresAt) <= deps.now())
    )
      problems.push("spec.expiresAt: must be an RFC 3339 time in the future");
    if (problems.length > 0)
      throw new HttpError("Invalid", `AccessKey.${GROUP} is invalid: ${problems.join("; ")}`);
    if (user !== ctx.user?.username && !isAdmin(ctx))
      throw new HttpError("Forbidden", "only administrators may create access keys for other users");
    if (!(await deps.store.users.get(user as string)))
      throw new HttpError(
        "Invalid",
        `AccessKey.${GROUP} is invalid: spec.user: no user ${JSON.stringify(user)}`,
      );
    const issued = issueKey(name as string);
    const keySpec: AccessKeySpec = {
      user: user as string,
      ...(clusters ? { clusters: clusters as string[] } : {}),
      ...(expiresAt ? { expiresAt: expiresAt as string } : {}),
      ...(typeof spec["description"] === "string" ? { description: spec["description"] } : {}),
    };
    const row = await deps.store.objects.create(
      key(name as string),
      randomUUID(),
      { spec: keySpec, secretHash: issued.secretHash, status: {} },
      deps.now(),
    );
    const out = present(row);
    writeJSON(ctx.res, 201, { ...out, status: { token: issued.token } });
  });

  router.add("GET", base, async (ctx) => {
    const opts = parseListOptions(ctx.url);
    const page = await deps.store.objects.list(ACCESS_KEY_KIND, {
      limit: opts.limit,
      ...(opts.continue ? { continue: opts.continue } : {}),
    });
    const items = page.items
      .filter((o) => isAdmin(ctx) || (o.body["spec"] as AccessKeySpec).user === ctx.user?.username)
      .map(present);
    writeJSON(ctx.res, 200, {
      apiVersion: GROUP_VERSION,
      kind: "AccessKeyList",
      metadata: page.continue ? { continue: page.continue } : {},
      items,
    });
  });

  router.add("GET", `${base}/:name`, async (ctx, p) =>
    writeJSON(ctx.res, 200, present(await owned(ctx, p["name"] as string))),
  );

  router.add("DELETE", `${base}/:name`, async (ctx, p) => {
    const name = p["name"] as string;
    await owned(ctx, name);
    await deps.store.objects.delete(key(name));
    writeJSON(ctx.res, 200, {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Success",
      details: { name, group: GROUP, kind: "accesskeys" },
    });
  });
}
