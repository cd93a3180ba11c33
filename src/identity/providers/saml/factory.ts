import { caBundleOf } from "../common.js";
import type { IdentityProvider, ProviderCommon, ProviderFactory } from "../types.js";
import { samlSettingsOf, validateSaml } from "./config.js";
import { parseIdpMetadata, SamlMetadataError } from "./metadata.js";
import { SamlProvider, type SamlDeps } from "./provider.js";

/** `spec.saml` fields that hold secrets: sealed at rest, never served back. */
export const SAML_SECRET_FIELDS = ["spPrivateKey"] as const;

/**
 * The `saml` provider kind. The replay guard is shared by every SAML provider of the process and,
 * with `StoreReplayGuard`, by every replica.
 */
export function createSamlFactory(deps: SamlDeps): ProviderFactory {
  return {
    type: "saml",
    secretFields: SAML_SECRET_FIELDS,
    validate(section: Record<string, unknown>): string[] {
      const problems = validateSaml(section);
      const inline = section["idpMetadata"];
      if (problems.length === 0 && typeof inline === "string") {
        try {
          parseIdpMetadata(
            inline,
            typeof section["idpEntityID"] === "string" ? section["idpEntityID"] : undefined,
          );
        } catch (e) {
          if (!(e instanceof SamlMetadataError)) throw e;
          problems.push(`spec.saml.idpMetadata: ${e.message}`);
        }
      }
      return problems;
    },
    create(common: ProviderCommon, section: Record<string, unknown>): IdentityProvider {
      const settings = samlSettingsOf(section, caBundleOf(section));
      // Inline metadata that cannot be used is an error now (at start), not at the first sign-in.
      if (settings.metadata.kind === "inline") parseIdpMetadata(settings.metadata.xml, settings.idpEntityID);
      return new SamlProvider(common, settings, deps);
    },
  };
}
