/** Small readers for untyped object fields; each records errors as "field.path: message". */
import { validateSelector, type LabelSelector, type LabelSelectorRequirement } from "../k8s/index.js";

export type Raw = Readonly<Record<string, unknown>>;

export function asRecord(v: unknown): Raw | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Raw) : undefined;
}

/** A list field; null and absent are the empty list (as Go decodes them). */
export function listField(v: unknown, path: string, errs: string[]): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    errs.push(`${path}: must be a list`);
    return [];
  }
  return v;
}

/** An object field; null and absent are undefined. */
export function objectField(v: unknown, path: string, errs: string[]): Raw | undefined {
  if (v === undefined || v === null) return undefined;
  const r = asRecord(v);
  if (r === undefined) errs.push(`${path}: must be an object`);
  return r;
}

export function stringMap(v: unknown, path: string, errs: string[]): Record<string, string> {
  if (v === undefined || v === null) return {};
  const r = asRecord(v);
  if (r === undefined) {
    errs.push(`${path}: must be a map of strings`);
    return {};
  }
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(r)) {
    if (typeof val !== "string") errs.push(`${path}.${k}: must be a string`);
    else out[k] = val;
  }
  return out;
}

/**
 * A metav1.LabelSelector. With `nullMeans: "absent"` a null or missing field yields undefined
 * (a nil pointer); with "empty" it yields {} (a required struct field Go decodes as empty).
 * Invalid operators or values are errors here, so evaluation never meets them.
 */
export function selectorField(
  v: unknown,
  path: string,
  errs: string[],
  nullMeans: "absent" | "empty",
): LabelSelector | undefined {
  if (v === undefined || v === null) return nullMeans === "empty" ? {} : undefined;
  const r = asRecord(v);
  if (r === undefined) {
    errs.push(`${path}: must be a label selector object`);
    return nullMeans === "empty" ? {} : undefined;
  }
  const matchLabels = stringMap(r["matchLabels"], `${path}.matchLabels`, errs);
  const matchExpressions: LabelSelectorRequirement[] = [];
  listField(r["matchExpressions"], `${path}.matchExpressions`, errs).forEach((e, i) => {
    const p = `${path}.matchExpressions[${i}]`;
    const req = asRecord(e);
    if (req === undefined || typeof req["key"] !== "string" || typeof req["operator"] !== "string") {
      errs.push(`${p}: must have a string key and operator`);
      return;
    }
    const values = listField(req["values"], `${p}.values`, errs);
    if (values.some((x) => typeof x !== "string")) errs.push(`${p}.values: must be strings`);
    matchExpressions.push({
      key: req["key"],
      operator: req["operator"] as LabelSelectorRequirement["operator"],
      values: values.filter((x): x is string => typeof x === "string"),
    });
  });
  const sel: LabelSelector = { matchLabels, matchExpressions };
  errs.push(...validateSelector(sel, path));
  return sel;
}

/** Stable text for a selector, used as a cache key and in explanations ("{}" selects all). */
export function selectorText(sel: LabelSelector): string {
  const parts: string[] = [];
  for (const k of Object.keys(sel.matchLabels ?? {}).sort()) parts.push(`${k}=${sel.matchLabels?.[k] ?? ""}`);
  for (const e of sel.matchExpressions ?? []) {
    const vals = [...(e.values ?? [])].sort().join(",");
    switch (e.operator) {
      case "In":
        parts.push(`${e.key} in (${vals})`);
        break;
      case "NotIn":
        parts.push(`${e.key} notin (${vals})`);
        break;
      case "Exists":
        parts.push(e.key);
        break;
      case "DoesNotExist":
        parts.push(`!${e.key}`);
        break;
    }
  }
  return parts.length === 0 ? "{}" : parts.sort().join(",");
}
