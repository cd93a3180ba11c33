import { Document, isMap, isNode, isSeq } from "yaml";
import type { RbacObject } from "../../rbac/index.js";
import type { RuleExplanation, SubjectResult } from "./build.js";
import type { ObservedRequest } from "./requests.js";

/**
 * Output as `kubectl apply -f` takes it: YAML documents separated by "---" (keys in the order
 * audit2rbac prints them; sequences indented as prettier writes them, so generated files stay
 * stable under formatters), or one JSON `kind: List`. With
 * explanations, each generated rule is preceded by comments naming the requests it allows.
 */
export function renderYaml(results: readonly SubjectResult[], explain: boolean): string {
  const docs: string[] = [];
  for (const r of results) {
    r.objects.forEach((o, i) => {
      const doc = new Document(o, { aliasDuplicateObjects: false });
      const why = r.explanations.get(i);
      if (explain && why) annotateRules(doc, why);
      docs.push(doc.toString({ lineWidth: 0 }));
    });
  }
  return docs.join("---\n");
}

export function renderJson(results: readonly SubjectResult[]): string {
  const items: RbacObject[] = results.flatMap((r) => r.objects);
  return JSON.stringify({ apiVersion: "v1", kind: "List", metadata: {}, items }, null, 2) + "\n";
}

/** The explanations alone, as plain text (for -o json, where comments cannot go). */
export function renderExplanations(results: readonly SubjectResult[]): string {
  const lines: string[] = [];
  for (const r of results) {
    r.objects.forEach((o, i) => {
      const why = r.explanations.get(i);
      if (!why) return;
      const where = o.metadata.namespace ? `${o.metadata.namespace}/` : "";
      why.forEach((w, j) => {
        lines.push(`${o.kind} ${where}${o.metadata.name} rule ${j + 1}:`);
        for (const l of explanationLines(w)) lines.push(`  ${l}`);
      });
    });
  }
  return lines.length > 0 ? lines.join("\n") + "\n" : "";
}

/** One line per user on what was generated, for stderr. */
export function summary(r: SubjectResult): string {
  const counts = new Map<string, number>();
  for (const o of r.objects) counts.set(o.kind, (counts.get(o.kind) ?? 0) + 1);
  const made = [...counts].map(([k, n]) => `${n} ${k}${n > 1 ? "s" : ""}`).join(", ");
  const head =
    `${r.username}: ${r.requestCount} request(s), ${r.alreadyAllowed} already allowed; ` +
    (made === "" ? "nothing to generate" : `generated ${made}`);
  return [head, ...r.notes.map((n) => `  note: ${n}`)].join("\n") + "\n";
}

function annotateRules(doc: Document, why: readonly RuleExplanation[]): void {
  const rules = isMap(doc.contents) ? doc.contents.get("rules", true) : undefined;
  if (!isSeq(rules)) return;
  why.forEach((w, j) => {
    const item = rules.items[j];
    if (isNode(item)) {
      item.commentBefore = explanationLines(w)
        .map((l) => ` ${l}`)
        .join("\n");
    }
  });
}

/** "allows: list /api/v1/namespaces/ns1/pods (2 requests; first 2017-09-11T20:28:54Z, auditID …, 403)". */
function explanationLines(w: RuleExplanation): string[] {
  const groups = new Map<string, ObservedRequest[]>();
  for (const r of w.requests) {
    const key = `${r.event.verb} ${r.event.requestURI}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  if (groups.size === 0) return ["allows: no request in the log (kept by verb expansion)"];
  return [...groups].map(([key, rs]) => {
    const first = rs[0] as ObservedRequest;
    const n = rs.length === 1 ? "1 request" : `${rs.length} requests`;
    const code = first.event.code !== undefined ? `, ${first.event.code}` : "";
    const at = first.event.timestamp !== "" ? `first ${first.event.timestamp}, ` : "";
    return `allows: ${key} (${n}; ${at}auditID ${first.event.auditID}${code})`;
  });
}
