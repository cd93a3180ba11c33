import type { Router } from "../router.js";
import type { Issuer } from "../../identity/index.js";
import type { ProviderRegistry } from "../../identity/providers/index.js";
import { SamlProvider } from "../../identity/providers/saml/index.js";

export interface SamlMetadataDeps {
  providers: ProviderRegistry;
  issuer: Issuer;
}

/**
 * `GET /idp/NAME/metadata`: the SAML 2.0 SP metadata of a SAML provider (entity ID, Assertion
 * Consumer Service = /idp/NAME/callback with the HTTP-POST binding, the AuthnRequest signing
 * certificate when one is set), for the IdP's administrator to import. Public, like the sign-in
 * endpoints: it holds nothing secret. Served even while the provider is disabled, since the IdP
 * must know Gatehouse before anyone can sign in.
 */
export function addSamlMetadataRoute(router: Router, deps: SamlMetadataDeps): void {
  router.add("GET", "/idp/:name/metadata", async (ctx, p) => {
    const name = p["name"] as string;
    const provider = (await deps.providers.inspect(name))?.provider;
    if (!(provider instanceof SamlProvider)) {
      ctx.res.statusCode = 404;
      ctx.res.setHeader("Content-Type", "text/plain; charset=utf-8");
      ctx.res.end(`There is no SAML identity provider ${JSON.stringify(name)}.\n`);
      return;
    }
    // The same callback URL the sign-in routes (api/idp.ts) give the provider.
    const base = String(deps.issuer.discovery()["issuer"]).replace(/\/+$/, "");
    const xml = provider.spMetadata(`${base}/idp/${encodeURIComponent(name)}/callback`);
    ctx.res.statusCode = 200;
    ctx.res.setHeader("Content-Type", "application/samlmetadata+xml; charset=utf-8");
    ctx.res.setHeader("Content-Disposition", `inline; filename="gatehouse-${name}-sp-metadata.xml"`);
    ctx.res.setHeader("Cache-Control", "no-cache");
    ctx.res.end(xml);
  });
}
