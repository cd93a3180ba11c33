import type { Router } from "../router.js";
import type { Issuer } from "../../identity/index.js";
import { ADMIN_GROUP } from "../../identity/index.js";
import { readJSONObject } from "../body.js";
import { HttpError } from "../errors.js";
import { writeJSON } from "../respond.js";

/** Members may ask Gatehouse to review tokens: the credential a cluster's webhook config presents. */
export const TOKEN_REVIEWERS_GROUP = "gatehouse:token-reviewers";
export const TOKENREVIEW_PATH = "/apis/authentication.k8s.io/v1/tokenreviews";

/**
 * The TokenReview webhook (authentication.k8s.io/v1) a cluster calls with
 * --authentication-token-webhook-config-file. The caller must be a token reviewer (or an admin);
 * the answer is a TokenReview whose status says whether the token is a live Gatehouse token, and
 * for whom. An unauthenticated answer carries no reason beyond "invalid token" (as kube-apiserver).
 */
export function addTokenReviewRoute(router: Router, deps: { issuer: Issuer; maxBody: number }): void {
  router.add("POST", TOKENREVIEW_PATH, async (ctx) => {
    const groups = ctx.user?.groups ?? [];
    if (!groups.includes(TOKEN_REVIEWERS_GROUP) && !groups.includes(ADMIN_GROUP))
      throw new HttpError(
        "Forbidden",
        `tokenreviews.authentication.k8s.io is forbidden: User "${ctx.user?.username ?? ""}" cannot create resource "tokenreviews" in API group "authentication.k8s.io" at the cluster scope`,
      );
    const body = await readJSONObject(ctx.req, deps.maxBody);
    if (body["kind"] !== "TokenReview" || body["apiVersion"] !== "authentication.k8s.io/v1")
      throw new HttpError("BadRequest", "expected an authentication.k8s.io/v1 TokenReview");
    const spec = (body["spec"] ?? {}) as Record<string, unknown>;
    const token = typeof spec["token"] === "string" ? spec["token"] : "";
    const audiences = Array.isArray(spec["audiences"])
      ? spec["audiences"].filter((a): a is string => typeof a === "string")
      : [];
    const verdict = token === "" ? undefined : await deps.issuer.verify(token);
    const status =
      verdict?.kind === "valid"
        ? {
            authenticated: true,
            user: verdict.user,
            // The cluster trusts Gatehouse for its own audiences by configuring this webhook.
            ...(audiences.length > 0 ? { audiences } : {}),
          }
        : { authenticated: false, error: "invalid token", user: {} };
    if (verdict?.kind === "rejected")
      ctx.log.info({ reason: verdict.reason }, "token review: not authenticated");
    writeJSON(ctx.res, 201, {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenReview",
      metadata: { creationTimestamp: null },
      spec: { ...(audiences.length > 0 ? { audiences } : {}) },
      status,
    });
  });
}
