/** Input errors of the simulator: a closed set of codes, each issue naming where it came from. */
import { formatSource, type Source } from "../k8s/index.js";

export type NetpolErrorCode = "InvalidObject" | "DuplicateObject" | "InvalidProbe" | "UnknownEndpoint";

export interface NetpolIssue {
  readonly code: NetpolErrorCode;
  readonly source?: Source;
  /** For line-oriented input (probes): the file and 1-based line. */
  readonly at?: { readonly file: string; readonly line: number };
  /** "NetworkPolicy x/allow-web" or "probe" */
  readonly subject: string;
  readonly message: string;
}

export function formatIssue(i: NetpolIssue): string {
  const where = i.source ? `${formatSource(i.source)}: ` : i.at ? `${i.at.file} line ${i.at.line}: ` : "";
  return `${where}${i.subject}: ${i.message}`;
}

/** Thrown when objects or probes are invalid; carries every issue found, not just the first. */
export class NetpolInputError extends Error {
  readonly code: NetpolErrorCode;
  constructor(readonly issues: readonly NetpolIssue[]) {
    super(issues.map(formatIssue).join("\n"));
    this.name = "NetpolInputError";
    this.code = issues[0]?.code ?? "InvalidObject";
  }
}
