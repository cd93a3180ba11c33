import { forbidden, type UserInfo } from "../../core/k8s/index.js";
import {
  dryRunOf,
  isMember,
  isOwner,
  parseTenant,
  TENANT_LABEL,
  type Tenant,
} from "../../core/tenancy/index.js";
import type { ClusterRegistry } from "../../clusters/types.js";
import { ADMIN_GROUP } from "../../identity/index.js";
import type { Router } from "../router.js";
import type { RequestContext } from "../context.js";
import { readJSONObject } from "../body.js";
import { HttpError } from "../errors.js";
import { writeJSON } from "../respond.js";
import type { AccessEvaluator } from "../gateway/access.js";
import type { TenancyService } from "./service.js";
import type { StoredSpace } from "./space-store.js";
import { verifyTenant } from "./verify.js";

const PREFIX = "/apis/gatehouse.io/v1alpha1";

/** The served form of a space. */
export function spaceObject(s: StoredSpace): Record<string, unknown> {
  return {
    apiVersion: "gatehouse.io/v1alpha1",
    kind: "Space",
    metadata: {
      name: s.namespace,
      uid: s.uid,
      creationTimestamp: new Date(s.createdAt).toISOString(),
      labels: { [TENANT_LABEL]: s.tenant },
    },
    spec: { tenant: s.tenant, cluster: s.cluster },
  };
}

/**
 * Who may read a Tenant besides admins: its owners and members (with their teams), for the generic
 * tenants API (`gatehouse tenant get/list`). Everyone else is refused as before, whether it exists or not.
 */
export function tenantReadable(
  access: AccessEvaluator,
): (ctx: RequestContext) => Promise<(o: { metadata: { name: string }; spec?: unknown }) => boolean> {
  return async (ctx) => {
    if (!ctx.user) return () => false;
    const user = await access.withTeams(ctx.user);
    return (o) => {
      const r = parseTenant(o.metadata.name, o.spec);
      return "tenant" in r && isMember(user, r.tenant);
    };
  };
}

/**
 * The spaces API and tenant verification:
 *   GET    /apis/gatehouse.io/v1alpha1/spaces[?tenant=T&cluster=C]      every space you may see
 *   POST   /apis/gatehouse.io/v1alpha1/clusters/C/spaces[?dryRun=All]    {kind: Space, metadata.name, spec.tenant}
 *   GET    /apis/gatehouse.io/v1alpha1/clusters/C/spaces/NAME
 *   DELETE /apis/gatehouse.io/v1alpha1/clusters/C/spaces/NAME[?dryRun=All]
 *   GET    /apis/gatehouse.io/v1alpha1/tenants/T/verify[?cluster=C]
 * Gatehouse admins may do all of it; tenant owners for their tenants (create, delete, verify), members
 * see their tenants' spaces. Everyone else gets kube-apiserver's 403.
 */
export function addTenancyRoutes(
  router: Router,
  deps: { service: TenancyService; access: AccessEvaluator; clusters: ClusterRegistry; maxBody: number },
): void {
  const caller = async (ctx: RequestContext): Promise<{ user: UserInfo; admin: boolean }> => {
    if (!ctx.user) throw new HttpError("Unauthorized", "Unauthorized");
    return { user: await deps.access.withTeams(ctx.user), admin: ctx.user.groups.includes(ADMIN_GROUP) };
  };
  const deny = (user: UserInfo, verb: string, resource: string, name = "", subresource = ""): HttpError =>
    HttpError.of(
      forbidden(
        {
          kind: "resource",
          user,
          verb,
          namespace: "",
          apiGroup: "gatehouse.io",
          apiVersion: "v1alpha1",
          resource,
          subresource,
          name,
        },
        "",
      ),
    );
  const tenantOr404 = async (name: string): Promise<Tenant> => {
    const t = await deps.service.spaces.tenant(name);
    if (!t) throw new HttpError("NotFound", `tenants.gatehouse.io ${JSON.stringify(name)} not found`);
    return t;
  };

  router.add("GET", `${PREFIX}/spaces`, async (ctx) => {
    const { user, admin } = await caller(ctx);
    const tenants = new Map((await deps.service.spaces.tenants()).map((t) => [t.name, t]));
    const tenant = ctx.url.searchParams.get("tenant");
    const cluster = ctx.url.searchParams.get("cluster");
    const items = (await deps.service.spaces.spaces()).filter((s) => {
      if (tenant && s.tenant !== tenant) return false;
      if (cluster && s.cluster !== cluster) return false;
      const t = tenants.get(s.tenant);
      return admin || (t !== undefined && isMember(user, t));
    });
    writeJSON(ctx.res, 200, {
      apiVersion: "gatehouse.io/v1alpha1",
      kind: "SpaceList",
      metadata: {},
      items: items.map(spaceObject),
    });
  });

  router.add("POST", `${PREFIX}/clusters/:cluster/spaces`, async (ctx, p) => {
    const { user, admin } = await caller(ctx);
    const body = await readJSONObject(ctx.req, deps.maxBody);
    const meta = (body["metadata"] ?? {}) as { name?: unknown; labels?: unknown };
    const spec = (body["spec"] ?? {}) as { tenant?: unknown };
    const problems: string[] = [];
    if (body["kind"] !== "Space") problems.push("kind: must be Space");
    if (body["apiVersion"] !== "gatehouse.io/v1alpha1")
      problems.push("apiVersion: must be gatehouse.io/v1alpha1");
    if (typeof meta.name !== "string" || meta.name === "")
      problems.push("metadata.name: required (the namespace name)");
    if (typeof spec.tenant !== "string" || spec.tenant === "") problems.push("spec.tenant: required");
    if (problems.length > 0)
      throw new HttpError(
        "Invalid",
        `Space ${JSON.stringify(meta.name ?? "")} is invalid: ${problems.join("; ")}`,
      );
    const t = await tenantOr404(spec.tenant as string);
    if (!admin && !isOwner(user, t)) throw deny(user, "create", "spaces");
    const cluster = p["cluster"] as string;
    const dry = dryRunOf(ctx.url.searchParams.getAll("dryRun"), "CreateOptions");
    if ("invalid" in dry) throw HttpError.of(dry.invalid);
    if (dry.dryRun) {
      // Every check of a create, the cluster's own dry run, nothing recorded: the Space as it would be.
      await deps.service.createSpace(
        { tenant: t.name, cluster, namespace: meta.name as string },
        { dryRun: true },
      );
      return writeJSON(ctx.res, 201, {
        apiVersion: "gatehouse.io/v1alpha1",
        kind: "Space",
        metadata: { name: meta.name, labels: { [TENANT_LABEL]: t.name } },
        spec: { tenant: t.name, cluster },
      });
    }
    await deps.service.createSpace({ tenant: t.name, cluster, namespace: meta.name as string });
    const s = await deps.service.spaces.space(cluster, meta.name as string);
    if (!s) throw new HttpError("InternalError", "the space vanished while it was being created");
    writeJSON(ctx.res, 201, spaceObject(s));
  });

  const oneSpace = async (ctx: RequestContext, p: Readonly<Record<string, string>>, verb: string) => {
    const { user, admin } = await caller(ctx);
    const cluster = p["cluster"] as string;
    const name = p["name"] as string;
    const s = await deps.service.spaces.space(cluster, name);
    const t = s && (await deps.service.spaces.tenant(s.tenant));
    const may = admin || (t !== undefined && (verb === "get" ? isMember(user, t) : isOwner(user, t)));
    if (!s || !may) {
      // Spaces of tenants you are not in do not exist for you, as clusters you cannot see.
      if (!s || !t || !isMember(user, t))
        throw new HttpError("NotFound", `spaces.gatehouse.io ${JSON.stringify(name)} not found`);
      throw deny(user, verb, "spaces", name);
    }
    return s;
  };

  router.add("GET", `${PREFIX}/clusters/:cluster/spaces/:name`, async (ctx, p) => {
    writeJSON(ctx.res, 200, spaceObject(await oneSpace(ctx, p, "get")));
  });

  router.add("DELETE", `${PREFIX}/clusters/:cluster/spaces/:name`, async (ctx, p) => {
    const s = await oneSpace(ctx, p, "delete");
    const dry = dryRunOf(ctx.url.searchParams.getAll("dryRun"), "DeleteOptions");
    if ("invalid" in dry) throw HttpError.of(dry.invalid);
    await deps.service.deleteSpace(
      s.cluster,
      s.namespace,
      dry.dryRun ? { kind: "DeleteOptions", apiVersion: "v1", dryRun: ["All"] } : undefined,
    );
    writeJSON(ctx.res, 200, {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Success",
      details: { name: s.namespace, group: "gatehouse.io", kind: "spaces" },
    });
  });

  router.add("GET", `${PREFIX}/tenants/:name/verify`, async (ctx, p) => {
    const { user, admin } = await caller(ctx);
    const t = await tenantOr404(p["name"] as string);
    if (!admin && !isOwner(user, t)) throw deny(user, "get", "tenants", t.name, "verify");
    const cluster = ctx.url.searchParams.get("cluster");
    writeJSON(
      ctx.res,
      200,
      await verifyTenant(
        { spaces: deps.service.spaces, clusters: deps.clusters },
        t.name,
        cluster ?? undefined,
      ),
    );
  });
}
