/**
 * Kubernetes label syntax (k8s.io/apimachinery validation.IsQualifiedName / IsValidLabelValue) and
 * `kubectl label` argument semantics, for cluster labels (env, region, team...).
 */
const NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Problems with a label key; empty when valid. */
export function labelKeyProblems(key: string): string[] {
  const slash = key.lastIndexOf("/");
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  const out: string[] = [];
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)))
    out.push(`prefix ${JSON.stringify(prefix)} must be a lower-case DNS subdomain`);
  if (name.length === 0 || name.length > 63 || !NAME_PART.test(name))
    out.push(
      "name part must be at most 63 characters of alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric",
    );
  return out;
}

/** Problems with a label value; empty when valid. */
export function labelValueProblems(value: string): string[] {
  if (value === "") return [];
  return value.length <= 63 && NAME_PART.test(value)
    ? []
    : [
        "must be at most 63 characters of alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric",
      ];
}

/** Every problem with a label map, as `metadata.labels[KEY]: ...`. */
export function validateLabels(labels: Readonly<Record<string, string>>): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(labels)) {
    for (const p of labelKeyProblems(k)) out.push(`metadata.labels[${JSON.stringify(k)}]: key ${p}`);
    for (const p of labelValueProblems(v)) out.push(`metadata.labels[${JSON.stringify(k)}]: value ${p}`);
  }
  return out;
}

/** A parsed `kubectl label` argument list: `k=v` sets, `k-` removes. */
export interface LabelChanges {
  set: Record<string, string>;
  remove: string[];
}

/** Parse `k=v` and `k-` arguments; throws Error with every problem. */
export function parseLabelArgs(args: readonly string[]): LabelChanges {
  const set: Record<string, string> = {};
  const remove: string[] = [];
  const problems: string[] = [];
  for (const a of args) {
    const eq = a.indexOf("=");
    if (eq >= 0) {
      const k = a.slice(0, eq);
      const v = a.slice(eq + 1);
      const p = [
        ...labelKeyProblems(k).map((x) => `key ${x}`),
        ...labelValueProblems(v).map((x) => `value ${x}`),
      ];
      if (p.length > 0) problems.push(`${JSON.stringify(a)}: ${p.join("; ")}`);
      else if (k in set) problems.push(`${JSON.stringify(k)} is given twice`);
      else set[k] = v;
    } else if (a.endsWith("-")) {
      const k = a.slice(0, -1);
      const p = labelKeyProblems(k);
      if (p.length > 0) problems.push(`${JSON.stringify(a)}: key ${p.join("; ")}`);
      else remove.push(k);
    } else problems.push(`${JSON.stringify(a)}: expected KEY=VALUE to set a label or KEY- to remove one`);
  }
  for (const k of remove) if (k in set) problems.push(`${JSON.stringify(k)} is both set and removed`);
  if (problems.length > 0) throw new Error(problems.join("; "));
  return { set, remove };
}

/**
 * Apply label changes as `kubectl label` does: changing an existing label to a different value needs
 * `overwrite`; removing a label that is absent is not an error. Returns the new labels and whether
 * anything changed; throws Error naming each label that would need --overwrite.
 */
export function applyLabelChanges(
  current: Readonly<Record<string, string>>,
  changes: LabelChanges,
  overwrite: boolean,
): { labels: Record<string, string>; changed: boolean } {
  if (!overwrite) {
    const clashes = Object.entries(changes.set)
      .filter(([k, v]) => current[k] !== undefined && current[k] !== v)
      .map(([k]) => `'${k}' already has a value (${current[k]}), and --overwrite is false`);
    if (clashes.length > 0) throw new Error(clashes.join("; "));
  }
  const labels: Record<string, string> = { ...current, ...changes.set };
  for (const k of changes.remove) delete labels[k];
  const keys = new Set([...Object.keys(current), ...Object.keys(labels)]);
  const changed = [...keys].some((k) => current[k] !== labels[k]);
  return { labels, changed };
}
