import type { Filter } from "../context.js";
import type { Authenticator } from "../../identity/index.js";
import { writeFailure } from "../respond.js";
import { clientGone } from "../gateway/client-status.js";

/** Paths anyone may reach: probes and the issuer's public documents. Exact matches only. */
const PUBLIC_PATHS = new Set([
  "/healthz",
  "/livez",
  "/readyz",
  "/version",
  // The issuer's discovery document and keys (src/identity/issuer).
  "/.well-known/openid-configuration",
  "/openid/v1/jwks",
  // Sign-in, refresh and logout carry their own credential: a password or a refresh token.
  "/apis/gatehouse.io/v1alpha1/login",
  "/apis/gatehouse.io/v1alpha1/token",
  "/apis/gatehouse.io/v1alpha1/logout",
  // The device authorization grant: the device's request, and the page where a person approves it.
  "/apis/gatehouse.io/v1alpha1/device/authorize",
  "/device",
  // The browser sign-in page of the authorization code flow (the CLI's loopback redirect).
  "/authorize",
]);

/**
 * Identity providers' sign-in endpoints (src/server/api/idp.ts): start, the provider's callback, and
 * a provider's public metadata (SAML SP metadata). The name is an object name, never a dot segment.
 */
const PUBLIC_IDP_PATH = /^\/idp\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/(start|callback|metadata)$/;

/**
 * Authenticate every request that is not for a public path. No credential, or a bad one, is a 401
 * Status before any routing, so anonymous callers learn nothing about what exists behind it.
 */
export function withAuthentication(authn: Authenticator): Filter {
  return (next) => async (ctx) => {
    if (PUBLIC_PATHS.has(ctx.rawPath) || PUBLIC_IDP_PATH.test(ctx.rawPath)) return next(ctx);
    const result = await authn.authenticate(ctx.req.headers, ctx.req.socket.remoteAddress ?? "");
    switch (result.kind) {
      case "authenticated":
        // An HTTP/2 stream the client reset while we authenticated (a rapid-reset flood): nothing
        // was asked of anyone yet, and nobody is listening for the answer.
        if (!ctx.upgrade && clientGone(ctx.res)) return;
        // The request's logger names the user from here on (server.ts makes it on first use).
        ctx.user = result.user;
        return next(ctx);
      case "rejected":
        ctx.log.info({ reason: result.reason }, "authentication failed");
        return writeFailure(ctx.res, "Unauthorized", "Unauthorized");
      case "none":
        return writeFailure(ctx.res, "Unauthorized", "Unauthorized");
    }
  };
}
