import { randomUUID } from "node:crypto";
import type { Router } from "../router.js";
import type { RequestContext } from "../context.js";
import { ADMIN_GROUP } from "../../identity/index.js";
import type { Store } from "../../store/index.js";
import { matchesSelector, parseSelectorString, type LabelSelector } from "../../core/k8s/index.js";
import { readJSONObject } from "../body.js";
import { HttpError } from "../errors.js";
import { writeJSON } from "../respond.js";
import { API_PREFIX, GROUP, GROUP_VERSION } from "./group.js";
import { requireAdmin } from "./admin-only.js";
import { parseListOptions } from "./list-options.js";
import { fromStored, type ApiObject, type KindSpec } from "./kind.js";

const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export interface ResourceDeps {
  store: Store;
  maxBody: number;
  now: () => number;
  /** Told after every successful write, so caches (authorization indexes) can refresh. */
  onChange: (kind: string) => void;
  /** Why an object may not be deleted now (409 Conflict with this message), or undefined. */
  beforeDelete?: (name: string) => Promise<string | undefined>;
  /**
   * Which objects a caller who is not an admin may read (tenants: their own). A list shows them only
   * those; a get of any other name is the same 403 as without this, whether it exists or not.
   * Absent: reading is for admins only. Writes are always for admins only.
   */
  readableBy?: (ctx: RequestContext) => Promise<(o: ApiObject) => boolean>;
}

/** REST for one kind, with Kubernetes conventions: list (paged, label selectors), get, create, replace, delete. */
export function addResourceRoutes(router: Router, spec: KindSpec, deps: ResourceDeps): void {
  const base = `${API_PREFIX}/${spec.plural}`;
  const present = (o: ApiObject): ApiObject => (spec.present ? spec.present(o) : o);
  const key = (name: string) => ({ kind: spec.kind, namespace: "", name });
  const notFound = (name: string) =>
    new HttpError("NotFound", `${spec.plural}.${GROUP} ${JSON.stringify(name)} not found`);
  /** Undefined for admins (everything), a predicate for others when the kind allows it, else the 403. */
  const readFilter = async (
    ctx: RequestContext,
    verb: string,
    name = "",
  ): Promise<((o: ApiObject) => boolean) | undefined> => {
    if (deps.readableBy && ctx.user && !ctx.user.groups.includes(ADMIN_GROUP)) return deps.readableBy(ctx);
    requireAdmin(ctx, verb, spec.plural, name);
    return undefined;
  };

  router.add("GET", base, async (ctx) => {
    const mayRead = await readFilter(ctx, "list");
    const opts = parseListOptions(ctx.url);
    const selector = parseLabelSelector(ctx.url.searchParams.get("labelSelector"));
    const page = await deps.store.objects.list(spec.kind, {
      limit: opts.limit,
      ...(opts.continue ? { continue: opts.continue } : {}),
    });
    const items = page.items
      .map(fromStored)
      .filter((o) => !selector || matchesSelector(selector, o.metadata.labels ?? {}))
      .filter((o) => !mayRead || mayRead(o));
    writeJSON(ctx.res, 200, {
      apiVersion: GROUP_VERSION,
      kind: `${spec.kind}List`,
      metadata: page.continue ? { continue: page.continue } : {},
      items: items.map(present),
    });
  });

  router.add("GET", `${base}/:name`, async (ctx, p) => {
    const name = p["name"] as string;
    const mayRead = await readFilter(ctx, "get", name);
    const row = await deps.store.objects.get(key(name));
    if (mayRead && !(row && mayRead(fromStored(row)))) requireAdmin(ctx, "get", spec.plural, name);
    if (!row) throw notFound(name);
    writeJSON(ctx.res, 200, present(fromStored(row)));
  });

  router.add("POST", base, async (ctx) => {
    requireAdmin(ctx, "create", spec.plural);
    const obj = await readObject(ctx.req, deps.maxBody, spec);
    const stored = spec.toStored ? await spec.toStored(obj, undefined) : obj;
    const row = await deps.store.objects.create(
      key(obj.metadata.name),
      randomUUID(),
      strip(stored),
      deps.now(),
    );
    deps.onChange(spec.kind);
    writeJSON(ctx.res, 201, present(fromStored(row)));
  });

  router.add("PUT", `${base}/:name`, async (ctx, p) => {
    const name = p["name"] as string;
    requireAdmin(ctx, "update", spec.plural, name);
    const obj = await readObject(ctx.req, deps.maxBody, spec);
    if (obj.metadata.name !== name)
      throw new HttpError(
        "BadRequest",
        `the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`,
      );
    const current = await deps.store.objects.get(key(name));
    if (!current) throw notFound(name);
    const rv = obj.metadata.resourceVersion;
    if (rv !== undefined && !/^\d+$/.test(rv))
      throw new HttpError(
        "BadRequest",
        "metadata.resourceVersion: must be a resource version this server returned",
      );
    const stored = spec.toStored ? await spec.toStored(obj, fromStored(current)) : obj;
    const row = await deps.store.objects.update(
      key(name),
      strip(stored),
      rv === undefined ? undefined : Number(rv),
    );
    deps.onChange(spec.kind);
    writeJSON(ctx.res, 200, present(fromStored({ ...row, uid: current.uid, createdAt: current.createdAt })));
  });

  router.add("DELETE", `${base}/:name`, async (ctx, p) => {
    const name = p["name"] as string;
    requireAdmin(ctx, "delete", spec.plural, name);
    const refused = await deps.beforeDelete?.(name);
    if (refused !== undefined) throw new HttpError("Conflict", refused);
    await deps.store.objects.delete(key(name));
    deps.onChange(spec.kind);
    writeJSON(ctx.res, 200, {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Success",
      details: { name, group: GROUP, kind: spec.plural },
    });
  });
}

async function readObject(
  req: Parameters<typeof readJSONObject>[0],
  limit: number,
  spec: KindSpec,
): Promise<ApiObject> {
  const body = await readJSONObject(req, limit);
  const problems: string[] = [];
  if (body["apiVersion"] !== GROUP_VERSION) problems.push(`apiVersion: must be ${GROUP_VERSION}`);
  if (body["kind"] !== spec.kind) problems.push(`kind: must be ${spec.kind}`);
  const meta = body["metadata"];
  if (typeof meta !== "object" || meta === null) problems.push("metadata: required");
  const name = (meta as Record<string, unknown> | null)?.["name"];
  if (typeof name !== "string" || !NAME.test(name) || name.length > 253)
    problems.push(
      "metadata.name: must be a lower-case DNS subdomain (a-z, 0-9, '-', '.') of at most 253 characters",
    );
  const labels = (meta as Record<string, unknown> | null)?.["labels"];
  if (
    labels !== undefined &&
    (typeof labels !== "object" ||
      labels === null ||
      Object.values(labels).some((v) => typeof v !== "string"))
  )
    problems.push("metadata.labels: must map strings to strings");
  if (problems.length === 0) problems.push(...spec.validate(body as ApiObject));
  if (problems.length > 0)
    throw new HttpError(
      "Invalid",
      `${spec.kind}.${GROUP} ${JSON.stringify(typeof name === "string" ? name : "")} is invalid: ${problems.join("; ")}`,
    );
  return body as ApiObject;
}

/** Only what the client owns is stored; uid, resourceVersion and timestamps come from the row. */
function strip(o: ApiObject): Record<string, unknown> {
  const { uid: _u, resourceVersion: _r, creationTimestamp: _c, ...meta } = o.metadata;
  return { ...o, metadata: meta };
}

function parseLabelSelector(s: string | null): LabelSelector | undefined {
  if (s === null || s === "") return undefined;
  try {
    return parseSelectorString(s);
  } catch (e) {
    throw new HttpError("BadRequest", (e as Error).message);
  }
}
