/** Verdicts → sentences naming the policies that allowed or blocked each direction. */
import type { DirectionVerdict, PolicyRef, Verdict } from "./evaluate.js";

export function describePolicy(p: PolicyRef): string {
  const name = p.namespace !== undefined ? `${p.namespace}/${p.name}` : p.name;
  const rule = p.rule !== undefined ? ` rule ${p.rule}` : "";
  const action = p.action !== undefined ? ` (${p.action})` : "";
  return `${p.kind} ${name}${rule}${action}`;
}

function side(v: DirectionVerdict): string {
  return v.direction === "egress" ? "the source" : "the destination";
}

/** One sentence for one direction. */
export function explainDirection(v: DirectionVerdict): string {
  const word = v.allowed ? "allowed" : "blocked";
  const head = `${v.direction} ${word}`;
  const passed = v.passedBy !== undefined ? ` after ${describePolicy(v.passedBy)} passed it on` : "";
  const list = v.policies.map(describePolicy).join(", ");
  switch (v.decidedBy) {
    case "self":
      return `${head}: a pod can always reach itself`;
    case "outside":
      return `${head}: ${side(v)} is outside the cluster, where no policy applies`;
    case "admin":
      return `${head} by ${list}`;
    case "baseline":
      return `${head} by ${list}${passed}`;
    case "networkpolicy":
      return v.allowed
        ? `${head} by ${list}${passed}`
        : `${head}: ${side(v)} is isolated for ${v.direction} by ${list} and no rule of them allows this traffic${passed}`;
    case "default": {
      const through = v.policies.length > 0 ? `; ${list} passed it on` : "";
      return `${head}: no NetworkPolicy isolates ${side(v)} for ${v.direction} and no admin rule decides it${passed}${through} (Kubernetes default)`;
    }
  }
}

/** Both directions, egress first, joined into one explanation. */
export function explainVerdict(v: Verdict): string {
  return `${explainDirection(v.egress)}; ${explainDirection(v.ingress)}`;
}
