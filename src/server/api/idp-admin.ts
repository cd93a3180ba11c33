import type { Router } from "../router.js";
import type { ProviderRegistry } from "../../identity/providers/index.js";
import { HttpError } from "../errors.js";
import { writeJSON } from "../respond.js";
import { requireAdmin } from "./admin-only.js";
import { API_PREFIX, GROUP, GROUP_VERSION } from "./group.js";

/**
 * `POST .../identityproviders/NAME/test` (administrators): runs the provider's checks (discovery,
 * keys, service bind, metadata...) and answers an IdentityProviderTest with each step, ok or not, and
 * what to do. A provider that could not even be built answers with that as its one failed step.
 */
export function addIdentityProviderTestRoute(router: Router, deps: { providers: ProviderRegistry }): void {
  router.add("POST", `${API_PREFIX}/identityproviders/:name/test`, async (ctx, p) => {
    const name = p["name"] as string;
    requireAdmin(ctx, "update", "identityproviders", name);
    deps.providers.invalidate();
    const found = await deps.providers.inspect(name);
    if (!found)
      throw new HttpError("NotFound", `identityproviders.${GROUP} ${JSON.stringify(name)} not found`);
    const checks = found.provider
      ? await found.provider
          .test(AbortSignal.timeout(found.info.timeoutMs * 3))
          .catch((e: unknown) => [{ step: "test", ok: false, message: (e as Error).message }])
      : [{ step: "configuration", ok: false, message: found.info.error ?? "the provider cannot be built" }];
    if (found.info.disabled)
      checks.unshift({
        step: "enabled",
        ok: false,
        message: "spec.disabled is true: nobody can sign in with it",
      });
    writeJSON(ctx.res, 200, {
      apiVersion: GROUP_VERSION,
      kind: "IdentityProviderTest",
      metadata: { name },
      status: { ok: checks.every((c) => c.ok), checks },
    });
  });
}
