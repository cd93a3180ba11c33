import { createHash, randomUUID } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import type { Store } from "../../store/index.js";
import type { ApiObject, KindSpec } from "../../server/api/kind.js";
import { IDENTITY_PROVIDER_KIND } from "./common.js";

/** Annotation on objects applied from the configuration: SHA-256 of the document last applied. */
export const APPLIED_ANNOTATION = "gatehouse.io/applied-from-config";
const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/**
 * IdentityProvider objects from the setting `identityProvidersFile`: one YAML file (documents
 * separated by `---`) or a directory of *.yaml / *.yml / *.json files. Every problem is collected,
 * each prefixed with its file.
 */
export function loadProviderFiles(path: string): { objects: ApiObject[]; problems: string[] } {
  const problems: string[] = [];
  let files: string[];
  try {
    files = statSync(path).isDirectory()
      ? readdirSync(path)
          .filter((f) => /\.(ya?ml|json)$/.test(f))
          .sort()
          .map((f) => join(path, f))
      : [path];
  } catch (e) {
    return { objects: [], problems: [`${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`] };
  }
  const objects: ApiObject[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      problems.push(`${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
      continue;
    }
    parseAllDocuments(text).forEach((doc, i) => {
      if (doc.errors.length > 0) {
        problems.push(
          `${file} (document ${i + 1}): not valid YAML: ${doc.errors[0]?.message.split("\n")[0]}`,
        );
        return;
      }
      const o = doc.toJS() as unknown;
      if (o === null || o === undefined) return;
      const obj = o as Partial<ApiObject>;
      if (obj.apiVersion !== "gatehouse.io/v1alpha1" || obj.kind !== IDENTITY_PROVIDER_KIND) {
        problems.push(
          `${file} (document ${i + 1}): expected apiVersion gatehouse.io/v1alpha1, kind ${IDENTITY_PROVIDER_KIND}`,
        );
        return;
      }
      const name = obj.metadata?.name;
      if (typeof name !== "string" || !NAME.test(name)) {
        problems.push(`${file} (document ${i + 1}): metadata.name: must be a lower-case DNS name`);
        return;
      }
      objects.push(obj as ApiObject);
    });
  }
  const names = objects.map((o) => o.metadata.name);
  for (const n of new Set(names.filter((n, i) => names.indexOf(n) !== i)))
    problems.push(`${path}: IdentityProvider ${n} is defined more than once`);
  return { objects, problems };
}

/**
 * Store the configured providers: created when new, replaced when their document changed since it
 * was last applied (secrets sealed as through the API), left alone otherwise (so changes made through
 * the API to objects the file does not name survive restarts). Returns every problem found.
 */
export async function applyProviderFiles(
  store: Store,
  kind: KindSpec,
  objects: readonly ApiObject[],
  now: number,
): Promise<{ applied: string[]; problems: string[] }> {
  const applied: string[] = [];
  const problems: string[] = [];
  for (const obj of objects) {
    const name = obj.metadata.name;
    const invalid = kind.validate(obj);
    if (invalid.length > 0) {
      problems.push(`IdentityProvider ${name}: ${invalid.join("; ")}`);
      continue;
    }
    const hash = createHash("sha256").update(JSON.stringify(obj)).digest("hex");
    const key = { kind: IDENTITY_PROVIDER_KIND, namespace: "", name };
    const current = await store.objects.get(key);
    const prev = current?.body as ApiObject | undefined;
    if (prev?.metadata.annotations?.[APPLIED_ANNOTATION] === hash) continue;
    const withMark: ApiObject = {
      apiVersion: obj.apiVersion,
      kind: obj.kind,
      metadata: {
        name,
        ...(obj.metadata.labels ? { labels: obj.metadata.labels } : {}),
        annotations: { ...obj.metadata.annotations, [APPLIED_ANNOTATION]: hash },
      },
      ...(obj.spec ? { spec: obj.spec } : {}),
    };
    try {
      const stored = kind.toStored ? await kind.toStored(withMark, prev) : withMark;
      if (current) await store.objects.update(key, stored as Record<string, unknown>);
      else await store.objects.create(key, randomUUID(), stored as Record<string, unknown>, now);
      applied.push(name);
    } catch (e) {
      problems.push(`IdentityProvider ${name}: ${(e as Error).message}`);
    }
  }
  return { applied, problems };
}
