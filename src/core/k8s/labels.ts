/** Kubernetes label selectors (metav1.LabelSelector), matched exactly as apimachinery does. */

export type LabelSelectorOperator = "In" | "NotIn" | "Exists" | "DoesNotExist";

export interface LabelSelectorRequirement {
  key: string;
  operator: LabelSelectorOperator;
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string> | null;
  matchExpressions?: LabelSelectorRequirement[] | null;
}

export type Labels = Readonly<Record<string, string>>;

/**
 * Whether labels match a selector. As metav1.LabelSelectorAsSelector: a null/undefined selector
 * matches nothing; an empty selector ({}) matches everything. An invalid requirement (unknown
 * operator, In/NotIn without values, Exists with values) makes the selector match nothing.
 */
export function matchesSelector(selector: LabelSelector | null | undefined, labels: Labels): boolean {
  if (selector === null || selector === undefined) return false;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[k] !== v) return false;
  }
  for (const req of selector.matchExpressions ?? []) {
    if (!matchesRequirement(req, labels)) return false;
  }
  return true;
}

function matchesRequirement(req: LabelSelectorRequirement, labels: Labels): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, req.key);
  const values = req.values ?? [];
  switch (req.operator) {
    case "In":
      return values.length > 0 && has && values.includes(labels[req.key] as string);
    case "NotIn":
      return values.length > 0 && (!has || !values.includes(labels[req.key] as string));
    case "Exists":
      return values.length === 0 && has;
    case "DoesNotExist":
      return values.length === 0 && !has;
    default:
      return false;
  }
}

/** Validation errors for a selector, as field paths; empty when valid. */
export function validateSelector(selector: LabelSelector, path: string): string[] {
  const errs: string[] = [];
  (selector.matchExpressions ?? []).forEach((r, i) => {
    const p = `${path}.matchExpressions[${i}]`;
    const n = r.values?.length ?? 0;
    if (r.operator === "In" || r.operator === "NotIn") {
      if (n === 0) errs.push(`${p}.values: must be specified when operator is ${r.operator}`);
    } else if (r.operator === "Exists" || r.operator === "DoesNotExist") {
      if (n > 0) errs.push(`${p}.values: may not be specified when operator is ${r.operator}`);
    } else {
      errs.push(`${p}.operator: not a valid selector operator: ${String(r.operator)}`);
    }
  });
  return errs;
}

/** Parse kubectl's selector string form ("env=prod,tier!=web,region in (eu,us),!legacy"). */
export function parseSelectorString(s: string): LabelSelector {
  const sel: { matchLabels: Record<string, string>; matchExpressions: LabelSelectorRequirement[] } = {
    matchLabels: {},
    matchExpressions: [],
  };
  for (const part of splitTopLevel(s)) {
    const p = part.trim();
    if (p === "") continue;
    let m: RegExpMatchArray | null;
    if ((m = p.match(/^([^\s!=()]+)\s+(in|notin)\s+\(([^)]*)\)$/))) {
      const values = (m[3] ?? "")
        .split(",")
        .map((v) => v.trim())
        .filter((v) => v !== "");
      sel.matchExpressions.push({ key: m[1] as string, operator: m[2] === "in" ? "In" : "NotIn", values });
    } else if ((m = p.match(/^([^\s!=()]+)\s*!=\s*([^\s,()]*)$/))) {
      sel.matchExpressions.push({ key: m[1] as string, operator: "NotIn", values: [m[2] as string] });
    } else if ((m = p.match(/^([^\s!=()]+)\s*==?\s*([^\s,()]*)$/))) {
      sel.matchLabels[m[1] as string] = m[2] as string;
    } else if ((m = p.match(/^!([^\s!=()]+)$/))) {
      sel.matchExpressions.push({ key: m[1] as string, operator: "DoesNotExist" });
    } else if ((m = p.match(/^([^\s!=()]+)$/))) {
      sel.matchExpressions.push({ key: m[1] as string, operator: "Exists" });
    } else {
      throw new Error(`invalid label selector ${JSON.stringify(s)}: cannot parse ${JSON.stringify(p)}`);
    }
  }
  return sel;
}

function splitTopLevel(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of s) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      parts.push(cur);
      cur = "";
    } else cur += ch;
  }
  parts.push(cur);
  return parts;
}
