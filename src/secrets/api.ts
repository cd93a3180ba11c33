import type { Router } from "../server/router.js";
import type { Store } from "../store/index.js";
import { requireAdmin } from "../server/api/admin-only.js";
import { API_PREFIX, GROUP_VERSION } from "../server/api/group.js";
import { writeJSON } from "../server/respond.js";
import type { KeyRing } from "./keyring.js";
import { reencryptAll, type SealedKind } from "./reencrypt.js";

/**
 * `POST /apis/gatehouse.io/v1alpha1/reencryptions`: a create-only virtual resource (like
 * SubjectAccessReview) that rewrites every stored secret under the primary key and answers with
 * what it did. Admin-only; the answer names objects and key ids, never secrets.
 */
export function addReencryptRoute(
  router: Router,
  deps: { store: Store; keyRing: KeyRing; kinds: readonly SealedKind[]; onChange: (kind: string) => void },
): void {
  router.add("POST", `${API_PREFIX}/reencryptions`, async (ctx) => {
    requireAdmin(ctx, "create", "reencryptions");
    // The body is optional and carries nothing; drain it so the connection stays usable.
    ctx.req.resume();
    const r = await reencryptAll(deps.store, deps.keyRing, deps.kinds);
    if (r.rewritten > 0) for (const k of deps.kinds) deps.onChange(k.kind);
    if (r.failed.length > 0) ctx.log.warn({ failed: r.failed }, "some secrets could not be re-encrypted");
    writeJSON(ctx.res, 201, {
      apiVersion: GROUP_VERSION,
      kind: "Reencryption",
      metadata: {},
      status: r,
    });
  });
}
