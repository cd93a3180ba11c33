/**
 * Namespaces through the gateway for tenant owners and members (the one call site is in
 * gateway/handler.ts, before visibility). Recognised, only for callers without a cluster-wide right
 * to do the same thing themselves, and never with client impersonation:
 *
 *  - POST /api/v1/namespaces by a tenant owner: a space. The tenant is the caller's only tenant on
 *    this cluster, or the one the namespace names (label or annotation gatehouse.io/tenant), or the
 *    only one whose prefix the name has. Checked and created by TenancyService with Gatehouse's own
 *    credential; the answer is the cluster's (201 + Namespace) or kube-apiserver's Status (403/409/422).
 *    `dryRun=All` runs every check and the cluster's dry run, and records nothing.
 *  - GET /api/v1/namespaces by an owner or member: the cluster's list, restricted to namespaces
 *    labelled with the caller's tenants, in whatever form was asked for (JSON, Table); with watch,
 *    the cluster's watch with the same restriction, judged event by event (namespace-watch.ts).
 *  - DELETE /api/v1/namespaces/NAME by an owner of the space's tenant: the space is deleted, with
 *    the caller's DeleteOptions; a dry run (body or query) only asks the cluster's dry run.
 *
 * Anything else returns false and takes the normal path (visibility, central authorization), so a
 * tenant owner touching another tenant's namespace gets the same 403/404 as anyone.
 */
import type { UserInfo } from "../../core/k8s/index.js";
import {
  chooseTenant,
  dryRunOf,
  readDeleteOptions,
  DeleteOptionsError,
  type DeleteOptions,
  readNamespaceBody,
  type NamespaceRequest,
  isMember,
  isOwner,
  tenantUsesCluster,
  TENANT_ANNOTATION,
  TENANT_LABEL,
  type Tenant,
} from "../../core/tenancy/index.js";
import type { ClusterTarget } from "../../clusters/types.js";
import { readBody } from "../body.js";
import { noteAudit, type RequestContext } from "../context.js";
import { HttpError } from "../errors.js";
import { writeJSON } from "../respond.js";
import type { AccessEvaluator } from "../gateway/access.js";
import { failure } from "../../core/k8s/index.js";
import { rawRequest } from "./kube.js";
import { serveNamespaceWatch, tenantSelector } from "./namespace-watch.js";
import type { TenancyService } from "./service.js";

export interface TenancyGateway {
  /** Handle the request if it is a tenant's namespace create/list/delete; false to let the gateway go on. */
  intercept(
    ctx: RequestContext,
    cluster: ClusterTarget,
    actor: UserInfo,
    requestURI: string,
  ): Promise<boolean>;
}

const NAMESPACES = "/api/v1/namespaces";

export function tenancyGateway(deps: {
  service: TenancyService;
  access: AccessEvaluator;
  maxBodyBytes: number;
}): TenancyGateway {
  const clusterWide = async (cluster: ClusterTarget, actor: UserInfo, verb: string): Promise<boolean> =>
    (
      await deps.access.authorize(
        { name: cluster.name, labels: cluster.labels },
        {
          kind: "resource",
          user: actor,
          verb,
          namespace: "",
          apiGroup: "",
          apiVersion: "v1",
          resource: "namespaces",
          subresource: "",
          name: "",
        },
      )
    ).decision === "allow";

  const tenantsHere = async (cluster: ClusterTarget, pick: (t: Tenant) => boolean): Promise<Tenant[]> =>
    (await deps.service.spaces.tenants()).filter(
      (t) => pick(t) && tenantUsesCluster(t, { name: cluster.name, labels: cluster.labels }),
    );

  return {
    async intercept(ctx, cluster, actor, requestURI) {
      // Cheap exits first: this runs for every gateway request.
      if (!requestURI.startsWith(NAMESPACES)) return false;
      const method = ctx.req.method ?? "GET";
      if (method !== "POST" && method !== "GET" && method !== "DELETE") return false;
      const url = new URL(requestURI, "http://x");
      const path = url.pathname;
      const one = /^\/api\/v1\/namespaces\/([^/]+)$/.exec(path);
      if (path !== NAMESPACES && !(method === "DELETE" && one)) return false;
      if (Object.keys(ctx.req.headers).some((h) => h.toLowerCase().startsWith("impersonate-"))) return false;
      const scoped = actor.extra?.["gatehouse.io/clusters"];
      if (scoped && !scoped.includes(cluster.name)) return false;

      if (method === "POST" && path === NAMESPACES) {
        const owned = await tenantsHere(cluster, (t) => isOwner(actor, t));
        if (owned.length === 0 || (await clusterWide(cluster, actor, "create"))) return false;
        noteAudit(ctx, { cluster: cluster.name });
        const type = contentType(ctx);
        const dry = dryRunOf(url.searchParams.getAll("dryRun"), "CreateOptions");
        if ("invalid" in dry) throw HttpError.of(dry.invalid);
        const raw = await readBody(ctx.req, deps.maxBodyBytes);
        let meta: NamespaceRequest;
        try {
          meta = readNamespaceBody(type, raw);
        } catch (e) {
          throw new HttpError(
            type === "application/json" || type === "application/vnd.kubernetes.protobuf"
              ? "BadRequest"
              : "UnsupportedMediaType",
            `cannot read the Namespace: ${(e as Error).message}`,
          );
        }
        const name = meta.name;
        if (name === "")
          throw HttpError.of(
            failure(
              "Invalid",
              'Namespace "" is invalid: metadata.name: Required value: name is required (a space cannot use generateName)',
              {
                kind: "Namespace",
                causes: [
                  {
                    reason: "FieldValueRequired",
                    message: "Required value: name is required",
                    field: "metadata.name",
                  },
                ],
              },
            ),
          );
        const chosen = chooseTenant(
          owned,
          name,
          meta.labels?.[TENANT_LABEL] ?? meta.annotations?.[TENANT_ANNOTATION],
        );
        if ("problem" in chosen) {
          noteAudit(ctx, { decision: "forbid", reason: `tenancy: ${chosen.problem}` });
          throw HttpError.of(
            failure("Forbidden", `namespaces ${JSON.stringify(name)} is forbidden: ${chosen.problem}`, {
              name,
              kind: "namespaces",
            }),
          );
        }
        noteAudit(ctx, { decision: "allow", reason: `tenancy: owner of tenant ${chosen.name}` });
        const labels = { ...meta.labels };
        delete labels[TENANT_LABEL];
        const ns = await deps.service.createSpace(
          { tenant: chosen.name, cluster: cluster.name, namespace: name, labels },
          { dryRun: dry.dryRun },
        );
        writeJSON(ctx.res, 201, ns);
        return true;
      }

      if (method === "GET" && path === NAMESPACES) {
        const watch = url.searchParams.get("watch");
        const watching = watch === "true" || watch === "1";
        const mine = await tenantsHere(cluster, (t) => isMember(actor, t));
        if (mine.length === 0 || (await clusterWide(cluster, actor, watching ? "watch" : "list")))
          return false;
        const names = mine.map((t) => t.name).sort();
        noteAudit(ctx, {
          cluster: cluster.name,
          decision: "allow",
          reason: `tenancy: namespaces of tenants ${names.join(", ")}`,
        });
        if (watching) {
          await serveNamespaceWatch(ctx, cluster, url.searchParams, names);
          return true;
        }
        const q = new URLSearchParams(url.searchParams);
        const own = q.get("labelSelector");
        q.set("labelSelector", tenantSelector(names, own));
        const reply = await rawRequest(
          cluster,
          "GET",
          `${NAMESPACES}?${q.toString()}`,
          String(ctx.req.headers["accept"] ?? "application/json"),
        );
        ctx.res.statusCode = reply.status;
        ctx.res.setHeader("Content-Type", reply.contentType);
        ctx.res.setHeader("Content-Length", reply.body.length);
        ctx.res.end(reply.body);
        return true;
      }

      if (method === "DELETE" && one) {
        const name = decodeURIComponent(one[1] as string);
        const space = await deps.service.spaces.space(cluster.name, name);
        if (!space) return false;
        const tenant = await deps.service.spaces.tenant(space.tenant);
        if (!tenant || !isOwner(actor, tenant)) return false;
        noteAudit(ctx, {
          cluster: cluster.name,
          decision: "allow",
          reason: `tenancy: owner of tenant ${tenant.name}`,
        });
        const type = contentType(ctx);
        let options: DeleteOptions;
        try {
          options = readDeleteOptions(type, await readBody(ctx.req, deps.maxBodyBytes), url.searchParams);
        } catch (e) {
          if (!(e instanceof DeleteOptionsError)) throw e;
          throw new HttpError(
            e.unsupportedMediaType ? "UnsupportedMediaType" : "BadRequest",
            `cannot read the DeleteOptions: ${e.message}`,
          );
        }
        const dry = dryRunOf(options.dryRun ?? [], "DeleteOptions");
        if ("invalid" in dry) throw HttpError.of(dry.invalid);
        const answer = await deps.service.deleteSpace(cluster.name, name, options);
        writeJSON(ctx.res, 200, answer);
        return true;
      }
      return false;
    },
  };
}

function contentType(ctx: RequestContext): string {
  return (
    String(ctx.req.headers["content-type"] ?? "application/json")
      .split(";")[0]
      ?.trim() ?? ""
  );
}
