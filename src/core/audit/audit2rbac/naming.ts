import { parseServiceAccountUsername, RBAC_GROUP, type Subject } from "../../rbac/index.js";

/** audit2rbac's defaults for --generate-name, --generate-labels and --generate-annotations. */
export const DEFAULT_NAME = "audit2rbac:${user}";
export const DEFAULT_LABELS: readonly string[] = [
  "audit2rbac.liggitt.net/user=${user}",
  "audit2rbac.liggitt.net/generated=true",
];
export const DEFAULT_ANNOTATIONS: readonly string[] = ["audit2rbac.liggitt.net/version=${version}"];

/** The binding subject for a username: a ServiceAccount for system:serviceaccount:NS:NAME, else a User. */
export function subjectFor(username: string): Subject {
  const sa = parseServiceAccountUsername(username);
  return sa
    ? { kind: "ServiceAccount", name: sa.name, namespace: sa.namespace }
    : { apiGroup: RBAC_GROUP, kind: "User", name: username };
}

/** audit2rbac's sanitizeName: lower case, anything but letters, digits and ":" becomes "-". */
export function sanitizeName(s: string): string {
  return s.replace(/[^a-zA-Z0-9:]/g, "-").toLowerCase();
}

/**
 * audit2rbac's sanitizeLabel (anything but letters and digits becomes "-", lower case), then cut to
 * the 63 characters a label value may have, without a trailing "-", so that kubectl accepts it.
 */
export function sanitizeLabel(s: string): string {
  return s
    .replace(/[^a-zA-Z0-9]/g, "-")
    .toLowerCase()
    .slice(0, 63)
    .replace(/-+$/, "");
}

export interface GeneratedMeta {
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/**
 * Fill the ${user} and ${version} placeholders for one user, as audit2rbac's Complete does. In the
 * name, a service account stands for itself by its short name (unless it is "default").
 */
export function generatedMeta(
  username: string,
  version: string,
  templates: { name: string; labels: readonly string[]; annotations: readonly string[] },
): GeneratedMeta {
  const sa = parseServiceAccountUsername(username);
  const nameUser = sa && sa.name !== "default" ? sa.name : username;
  const name = templates.name
    .replaceAll("${user}", sanitizeName(nameUser))
    .replaceAll("${version}", sanitizeName(version));
  return {
    name,
    labels: keyValues(templates.labels, (s) =>
      s.replaceAll("${user}", sanitizeLabel(username)).replaceAll("${version}", sanitizeLabel(version)),
    ),
    annotations: keyValues(templates.annotations, (s) =>
      s.replaceAll("${user}", username).replaceAll("${version}", version),
    ),
  };
}

/** "k=v" entries (a bare "k" means an empty value); blank entries are skipped. */
function keyValues(entries: readonly string[], fill: (s: string) => string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of entries) {
    const s = fill(raw.trim());
    if (s === "") continue;
    const eq = s.indexOf("=");
    if (eq < 0) out[s] = "";
    else out[s.slice(0, eq)] = s.slice(eq + 1);
  }
  return out;
}
