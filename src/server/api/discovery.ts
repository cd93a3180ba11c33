import type { Router } from "../router.js";
import { writeJSON } from "../respond.js";
import { GROUP, GROUP_VERSION, RESOURCES, VERSION_NAME } from "./group.js";

/** Discovery documents in the shapes kube-apiserver serves, so kubectl-style tools can read them. */
export function addDiscoveryRoutes(router: Router): void {
  const group = {
    name: GROUP,
    versions: [{ groupVersion: GROUP_VERSION, version: VERSION_NAME }],
    preferredVersion: { groupVersion: GROUP_VERSION, version: VERSION_NAME },
  };
  router.add("GET", "/apis", async (ctx) =>
    writeJSON(ctx.res, 200, { kind: "APIGroupList", apiVersion: "v1", groups: [group] }),
  );
  router.add("GET", `/apis/${GROUP}`, async (ctx) =>
    writeJSON(ctx.res, 200, { kind: "APIGroup", apiVersion: "v1", ...group }),
  );
  router.add("GET", `/apis/${GROUP_VERSION}`, async (ctx) =>
    writeJSON(ctx.res, 200, {
      kind: "APIResourceList",
      apiVersion: "v1",
      groupVersion: GROUP_VERSION,
      resources: RESOURCES.map((r) => ({
        name: r.name,
        singularName: r.singularName,
        namespaced: r.namespaced,
        kind: r.kind,
        verbs: r.verbs,
        ...(r.shortNames ? { shortNames: r.shortNames } : {}),
      })),
    }),
  );
}
