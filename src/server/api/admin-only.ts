import type { RequestContext } from "../context.js";
import { forbidden } from "../../core/k8s/index.js";
import { ADMIN_GROUP } from "../../identity/index.js";
import { HttpError } from "../errors.js";
import { GROUP } from "./group.js";

/**
 * Management-API authorization until delegated administration (RBAC over gatehouse.io resources)
 * lands: members of gatehouse:admins may do everything, nobody else anything. Denied is the default.
 */
export function requireAdmin(ctx: RequestContext, verb: string, resource: string, name = ""): void {
  const user = ctx.user;
  if (!user) throw new HttpError("Unauthorized", "Unauthorized");
  if (user.groups.includes(ADMIN_GROUP)) return;
  throw HttpError.of(
    forbidden(
      {
        kind: "resource",
        user,
        verb,
        namespace: "",
        apiGroup: GROUP,
        apiVersion: "v1alpha1",
        resource,
        subresource: "",
        name,
      },
      "",
    ),
  );
}
