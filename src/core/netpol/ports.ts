/**
 * Ports and protocols. A rule's ports are matched against the traffic's destination port; a named
 * port is resolved against the destination pod's container ports (never against an address
 * outside the cluster), as CNI plugins and cyclonus do.
 */
import { PROTOCOLS, type Pod, type PortMatch, type Ports, type Protocol } from "./types.js";

/** The traffic a rule is asked about: destination port and protocol, and the destination pod if any. */
export interface Traffic {
  readonly port: number;
  readonly protocol: Protocol;
  readonly destination: Pod | undefined;
}

export function isProtocol(v: unknown): v is Protocol {
  return typeof v === "string" && (PROTOCOLS as readonly string[]).includes(v);
}

/** The number of the destination pod's container port with this name and protocol, if any. */
export function resolveNamedPort(pod: Pod, name: string, protocol: Protocol): number | undefined {
  return pod.ports.find((p) => p.name === name && p.protocol === protocol)?.port;
}

export function portMatches(m: PortMatch, t: Traffic): boolean {
  switch (m.kind) {
    case "all":
      return m.protocol === t.protocol;
    case "range":
      return m.protocol === t.protocol && m.from <= t.port && t.port <= m.to;
    case "named":
      if (m.protocol !== undefined && m.protocol !== t.protocol) return false;
      return t.destination !== undefined && resolveNamedPort(t.destination, m.name, t.protocol) === t.port;
  }
}

/** Whether a rule's ports cover the traffic; undefined ports cover everything. */
export function portsMatch(ports: Ports, t: Traffic): boolean {
  return ports === undefined || ports.some((m) => portMatches(m, t));
}

/** validation.IsValidPortName: an IANA service name (1-15 chars, a-z 0-9 and '-', one letter). */
export function portNameErrors(name: string): string[] {
  const errs: string[] = [];
  if (name.length < 1 || name.length > 15) errs.push("must be no more than 15 characters");
  if (!/^[-a-z0-9]+$/.test(name))
    errs.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
  if (name.includes("--")) errs.push("must not contain consecutive hyphens");
  if (!/[a-z]/.test(name)) errs.push("must contain at least one letter (a-z)");
  if (name.startsWith("-") || name.endsWith("-")) errs.push("must not begin or end with a hyphen");
  return errs;
}

export function isPortNumber(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= 1 && v <= 65535;
}

/** Text for explanations: "TCP/80", "UDP/1000-2000", "TCP/web", "any TCP port". */
export function describePortMatch(m: PortMatch): string {
  switch (m.kind) {
    case "all":
      return `any ${m.protocol} port`;
    case "range":
      return m.from === m.to ? `${m.protocol}/${m.from}` : `${m.protocol}/${m.from}-${m.to}`;
    case "named":
      return `${m.protocol ?? "any protocol"}/${m.name}`;
  }
}
