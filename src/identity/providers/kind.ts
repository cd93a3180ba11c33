import type { KeyRing, SealedKind } from "../../secrets/index.js";
import type { ApiObject, KindSpec } from "../../server/api/kind.js";
import { GROUP } from "../../server/api/group.js";
import { HttpError } from "../../server/errors.js";
import { IDENTITY_PROVIDER_KIND, validateCommon, type ProviderSpec } from "./common.js";
import type { ProviderFactory } from "./types.js";

/**
 * The IdentityProvider kind of the management API (cluster-scoped, admin-only writes through the
 * generic REST handler).
 *
 * Secrets (each factory's `secretFields`: client secrets, bind passwords) are write-only:
 * - sent as plain strings, they are sealed with the key ring before they are stored, as
 *   `{ciphertext}`, with associated data `IdentityProvider/NAME/spec.TYPE.FIELD`, so a ciphertext
 *   copied into another object or field does not open;
 * - served back only as `{sealed: true}`;
 * - omitted (or sent back as `{sealed: true}`) on an update, the stored secret is kept, unless the
 *   type changed; sent as "" the secret is removed.
 */
export function secretAad(name: string, type: string, field: string): string {
  return `${IDENTITY_PROVIDER_KIND}/${name}/spec.${type}.${field}`;
}

type Factories = ReadonlyMap<string, ProviderFactory>;

const isSealedMarker = (v: unknown): boolean =>
  typeof v === "object" && v !== null && (v as Record<string, unknown>)["sealed"] === true;
const ciphertextOf = (v: unknown): string | undefined => {
  const c = typeof v === "object" && v !== null ? (v as Record<string, unknown>)["ciphertext"] : undefined;
  return typeof c === "string" ? c : undefined;
};

/** Every problem with an object's spec: the shared fields, then the type's own section. */
export function validateProvider(obj: ApiObject, factories: Factories): string[] {
  const problems = validateCommon(obj.spec);
  const spec = obj.spec as ProviderSpec | undefined;
  const factory = spec && factories.get(spec.type);
  const sectionOk = typeof spec?.[spec.type] === "object" && spec[spec.type] !== null;
  if (!spec || !factory || !sectionOk) {
    if (problems.length === 0 && spec)
      problems.push(`spec.type: ${spec.type} providers are not available in this build of Gatehouse`);
    return problems;
  }
  const section = { ...(spec[spec.type] as Record<string, unknown>) };
  // A kept or sealed secret is checked when stored; here it stands in as a placeholder string.
  for (const f of factory.secretFields) {
    const v = section[f];
    if (v === undefined || isSealedMarker(v) || ciphertextOf(v) !== undefined) section[f] = "(sealed)";
    else if (v === "") delete section[f];
  }
  return [...problems, ...factory.validate(section)];
}

/** The stored form: secrets sealed (new ones) or carried over (kept ones). */
export function sealProvider(
  keyRing: KeyRing,
  factories: Factories,
  obj: ApiObject,
  previous: ApiObject | undefined,
): ApiObject {
  const name = obj.metadata.name;
  const spec = obj.spec as ProviderSpec;
  const factory = factories.get(spec.type) as ProviderFactory;
  const section = { ...(spec[spec.type] as Record<string, unknown>) };
  const prevSpec = previous?.spec as ProviderSpec | undefined;
  const prevSection =
    prevSpec?.type === spec.type ? (prevSpec[spec.type] as Record<string, unknown> | undefined) : undefined;
  for (const f of factory.secretFields) {
    const v = section[f];
    if (typeof v === "string" && v !== "") {
      section[f] = { ciphertext: keyRing.seal(v, secretAad(name, spec.type, f)) };
    } else if (v === "") {
      delete section[f];
    } else {
      const kept = ciphertextOf(prevSection?.[f]);
      if (kept !== undefined) section[f] = { ciphertext: kept };
      else delete section[f];
    }
  }
  const problems = factory.validate(placeholders(section, factory));
  if (problems.length > 0)
    throw new HttpError(
      "Invalid",
      `${IDENTITY_PROVIDER_KIND}.${GROUP} ${JSON.stringify(name)} is invalid: ${problems.join("; ")}`,
    );
  const { status: _status, ...rest } = obj;
  return { ...rest, spec: { ...spec, [spec.type]: section } };
}

/** A section with sealed secrets replaced by a placeholder, for validation only. */
function placeholders(section: Record<string, unknown>, factory: ProviderFactory): Record<string, unknown> {
  const out = { ...section };
  for (const f of factory.secretFields) if (out[f] !== undefined) out[f] = "(sealed)";
  return out;
}

/** The section with its secrets opened, for `ProviderFactory.create`. Throws SecretsError. */
export function openSection(
  keyRing: KeyRing,
  factory: ProviderFactory,
  name: string,
  spec: ProviderSpec,
): Record<string, unknown> {
  const section = { ...(spec[spec.type] as Record<string, unknown>) };
  for (const f of factory.secretFields) {
    const c = ciphertextOf(section[f]);
    if (c !== undefined) section[f] = keyRing.open(c, secretAad(name, spec.type, f));
  }
  return section;
}

/** The served form: every secret as `{sealed: true}`. */
export function presentProvider(obj: ApiObject, factories: Factories): ApiObject {
  const spec = obj.spec as ProviderSpec | undefined;
  const factory = spec && factories.get(spec.type);
  if (!spec || !factory) return obj;
  const section = { ...(spec[spec.type] as Record<string, unknown>) };
  for (const f of factory.secretFields) if (section[f] !== undefined) section[f] = { sealed: true };
  return { ...obj, spec: { ...spec, [spec.type]: section } };
}

/** The KindSpec for the generic REST handler. */
export function identityProviderKind(keyRing: KeyRing, factories: Factories): KindSpec {
  return {
    kind: IDENTITY_PROVIDER_KIND,
    plural: "identityproviders",
    singular: "identityprovider",
    shortNames: ["idp"],
    validate: (obj) => validateProvider(obj, factories),
    toStored: (obj, previous) => Promise.resolve(sealProvider(keyRing, factories, obj, previous)),
    present: (obj) => presentProvider(obj, factories),
  };
}

/** How `gatehouse secrets reencrypt` rewrites IdentityProvider secrets under the primary key. */
export function identityProviderSealedKind(factories: Factories): SealedKind {
  return {
    kind: IDENTITY_PROVIDER_KIND,
    reseal(body, name, keyRing) {
      const spec = body["spec"] as ProviderSpec | undefined;
      const factory = spec && factories.get(spec.type);
      if (!spec || !factory) return undefined;
      const section = { ...(spec[spec.type] as Record<string, unknown>) };
      let changed = false;
      for (const f of factory.secretFields) {
        const c = ciphertextOf(section[f]);
        if (c === undefined || keyRing.isCurrent(c)) continue;
        section[f] = { ciphertext: keyRing.reseal(c, secretAad(name, spec.type, f)) };
        changed = true;
      }
      return changed ? { ...body, spec: { ...spec, [spec.type]: section } } : undefined;
    },
  };
}
