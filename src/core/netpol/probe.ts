/**
 * Probes: one JSON object per line, {"from": "NS/POD" | "ip:ADDRESS", "to": ..., "port": 80 | "name",
 * "protocol": "TCP"}. All lines are validated and resolved before any is evaluated, so a bad line
 * produces an error naming it and no partial output.
 */
import type { Cluster } from "./cluster.js";
import { NetpolInputError, type NetpolIssue } from "./errors.js";
import { evaluate, type Connection, type DirectionVerdict, type PolicyRef } from "./evaluate.js";
import { explainDirection, explainVerdict } from "./explain.js";
import { parseIp } from "./ip.js";
import { isPortNumber, resolveNamedPort } from "./ports.js";
import { PROTOCOLS, type Endpoint, type Protocol } from "./types.js";

export interface Probe {
  readonly from: string;
  readonly to: string;
  readonly port: number | string;
  readonly protocol: Protocol;
  /** 1-based line in the probe input, for errors. */
  readonly line: number;
}

export interface DirectionResult {
  readonly allowed: boolean;
  readonly decidedBy: DirectionVerdict["decidedBy"];
  readonly policies: readonly PolicyRef[];
  readonly passedBy?: PolicyRef;
  readonly reason: string;
}

export interface ProbeResult {
  readonly from: string;
  readonly to: string;
  readonly port: number | string;
  readonly protocol: Protocol;
  /** Present when the probe named a port: the destination's container port number. */
  readonly resolvedPort?: number;
  readonly allowed: boolean;
  readonly egress: DirectionResult;
  readonly ingress: DirectionResult;
  readonly explanation: string;
}

/** Parse JSON-lines probes; blank lines are skipped. Throws NetpolInputError listing bad lines. */
export function parseProbes(text: string, file: string): Probe[] {
  const issues: NetpolIssue[] = [];
  const out: Probe[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (line === "") return;
    const fail = (message: string): void => {
      issues.push({ code: "InvalidProbe", at: { file, line: i + 1 }, subject: "probe", message });
    };
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      return fail(`invalid JSON: ${(e as Error).message}`);
    }
    if (typeof v !== "object" || v === null || Array.isArray(v)) return fail("expected a JSON object");
    const r = v as Record<string, unknown>;
    const { from, to, port } = r;
    const protocol =
      typeof r["protocol"] === "string"
        ? r["protocol"].toUpperCase()
        : r["protocol"] === undefined
          ? "TCP"
          : undefined;
    if (typeof from !== "string" || typeof to !== "string")
      return fail(`"from" and "to" must be strings ("NS/POD" or "ip:ADDRESS")`);
    if (!isPortNumber(port) && (typeof port !== "string" || port === ""))
      return fail(`"port" must be a number from 1 to 65535 or a port name`);
    if (protocol === undefined || !(PROTOCOLS as readonly string[]).includes(protocol))
      return fail(`"protocol" must be one of TCP, UDP, SCTP`);
    out.push({ from, to, port, protocol: protocol as Protocol, line: i + 1 });
  });
  if (issues.length > 0) throw new NetpolInputError(issues);
  return out;
}

/** "NS/POD" or "ip:ADDRESS" → endpoint; an address that belongs to a pod is that pod. */
export function parseEndpoint(c: Cluster, text: string): Endpoint | string {
  if (text.startsWith("ip:")) {
    const ip = parseIp(text.slice(3));
    if (ip === undefined) return `${JSON.stringify(text)} is not a valid IP address`;
    const pod = c.podByIp(ip);
    return pod !== undefined ? { kind: "pod", pod } : { kind: "external", ip };
  }
  const pod = c.podByKey(text);
  if (pod !== undefined) return { kind: "pod", pod };
  return text.includes("/")
    ? `unknown pod ${JSON.stringify(text)}`
    : `${JSON.stringify(text)} must be "NS/POD" or "ip:ADDRESS"`;
}

/** Resolve every probe to a connection, or throw listing every probe that cannot be resolved. */
export function resolveProbes(c: Cluster, probes: readonly Probe[], file: string): Connection[] {
  const issues: NetpolIssue[] = [];
  const out: Connection[] = [];
  probes.forEach((p) => {
    const fail = (message: string): void => {
      issues.push({ code: "UnknownEndpoint", at: { file, line: p.line }, subject: "probe", message });
    };
    const from = parseEndpoint(c, p.from);
    const to = parseEndpoint(c, p.to);
    if (typeof from === "string") return fail(from);
    if (typeof to === "string") return fail(to);
    if (from.kind === "external" && to.kind === "external") return fail("at least one end must be a pod");
    let port: number | undefined;
    if (typeof p.port === "number") port = p.port;
    else if (to.kind === "pod") port = resolveNamedPort(to.pod, p.port, p.protocol);
    if (port === undefined) {
      return fail(
        to.kind === "pod"
          ? `pod ${p.to} has no ${p.protocol} container port named ${JSON.stringify(p.port)}`
          : `a named port needs a pod as destination, not ${p.to}`,
      );
    }
    out.push({ from, to, port, protocol: p.protocol });
  });
  if (issues.length > 0) throw new NetpolInputError(issues);
  return out;
}

function directionResult(v: DirectionVerdict): DirectionResult {
  return {
    allowed: v.allowed,
    decidedBy: v.decidedBy,
    policies: v.policies,
    ...(v.passedBy !== undefined ? { passedBy: v.passedBy } : {}),
    reason: explainDirection(v),
  };
}

/** Evaluate probes in input order (after resolving all of them). */
export function runProbes(c: Cluster, probes: readonly Probe[], file: string): ProbeResult[] {
  const conns = resolveProbes(c, probes, file);
  return probes.map((p, i) => {
    const conn = conns[i] as Connection;
    const v = evaluate(c, conn);
    return {
      from: p.from,
      to: p.to,
      port: p.port,
      protocol: p.protocol,
      ...(typeof p.port === "string" ? { resolvedPort: conn.port } : {}),
      allowed: v.allowed,
      egress: directionResult(v.egress),
      ingress: directionResult(v.ingress),
      explanation: explainVerdict(v),
    };
  });
}
