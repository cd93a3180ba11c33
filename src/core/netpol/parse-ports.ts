/**
 * Port lists of NetworkPolicy (ports[] with port/endPort/protocol), AdminNetworkPolicy (ports[]
 * with portNumber/namedPort/portRange) and ClusterNetworkPolicy (protocols[] with tcp/udp/sctp or
 * destinationNamedPort), all turned into PortMatch. Validation follows each API's rules.
 */
import { asRecord, listField, type Raw } from "./parse-util.js";
import { isPortNumber, isProtocol, portNameErrors } from "./ports.js";
import type { PortMatch, Ports, Protocol } from "./types.js";

function protocolField(v: unknown, path: string, errs: string[]): Protocol {
  if (v === undefined || v === null) return "TCP"; // the API default
  if (isProtocol(v)) return v;
  errs.push(`${path}: Unsupported value: ${JSON.stringify(v)}: supported values: "TCP", "UDP", "SCTP"`);
  return "TCP";
}

/** networking/v1 NetworkPolicyPort list; absent or empty means all ports. */
export function parseNetpolPorts(v: unknown, path: string, errs: string[]): Ports {
  const items = listField(v, path, errs);
  if (items.length === 0) return undefined;
  const out: PortMatch[] = [];
  items.forEach((item, i) => {
    const p = `${path}[${i}]`;
    const r = asRecord(item);
    if (r === undefined) {
      errs.push(`${p}: must be an object`);
      return;
    }
    const protocol = protocolField(r["protocol"], `${p}.protocol`, errs);
    const port = r["port"];
    const endPort = r["endPort"];
    if (port === undefined || port === null) {
      if (endPort !== undefined && endPort !== null)
        errs.push(`${p}.endPort: may not be specified when \`port\` is not specified`);
      out.push({ kind: "all", protocol });
    } else if (typeof port === "number") {
      if (!isPortNumber(port))
        errs.push(`${p}.port: Invalid value: ${port}: must be between 1 and 65535, inclusive`);
      let to = port;
      if (endPort !== undefined && endPort !== null) {
        if (!isPortNumber(endPort))
          errs.push(
            `${p}.endPort: Invalid value: ${String(endPort)}: must be between 1 and 65535, inclusive`,
          );
        else if (endPort < port) errs.push(`${p}.endPort: must be greater than or equal to \`port\``);
        else to = endPort;
      }
      out.push({ kind: "range", protocol, from: port, to });
    } else if (typeof port === "string") {
      if (endPort !== undefined && endPort !== null)
        errs.push(`${p}.endPort: may not be specified when \`port\` is non-numeric`);
      for (const m of portNameErrors(port))
        errs.push(`${p}.port: Invalid value: ${JSON.stringify(port)}: ${m}`);
      out.push({ kind: "named", name: port, protocol });
    } else {
      errs.push(`${p}.port: must be a number or a port name`);
    }
  });
  return out;
}

/** policy.networking.k8s.io/v1alpha1 AdminNetworkPolicyPort list (ANP and BANP). */
export function parseAnpPorts(v: unknown, path: string, errs: string[]): Ports {
  if (v === undefined || v === null) return undefined;
  const out: PortMatch[] = [];
  const items = listField(v, path, errs);
  if (items.length === 0) errs.push(`${path}: must have at least 1 item when set`);
  items.forEach((item, i) => {
    const p = `${path}[${i}]`;
    const r = asRecord(item) ?? {};
    const set = ["portNumber", "namedPort", "portRange"].filter((k) => r[k] !== undefined && r[k] !== null);
    if (set.length !== 1) {
      errs.push(`${p}: exactly one of portNumber, namedPort, portRange must be set`);
      return;
    }
    const num = asRecord(r["portNumber"]);
    const range = asRecord(r["portRange"]);
    if (num) {
      const port = num["port"];
      if (!isPortNumber(port)) errs.push(`${p}.portNumber.port: must be between 1 and 65535, inclusive`);
      else
        out.push({
          kind: "range",
          protocol: protocolField(num["protocol"], `${p}.portNumber.protocol`, errs),
          from: port,
          to: port,
        });
    } else if (range) {
      out.push(
        ...rangeMatch(
          range,
          protocolField(range["protocol"], `${p}.portRange.protocol`, errs),
          `${p}.portRange`,
          errs,
        ),
      );
    } else {
      out.push(...namedMatch(r["namedPort"], `${p}.namedPort`, errs));
    }
  });
  return out;
}

/** policy.networking.k8s.io/v1alpha2 ClusterNetworkPolicyProtocol list. */
export function parseCnpProtocols(v: unknown, path: string, errs: string[]): Ports {
  if (v === undefined || v === null) return undefined;
  const out: PortMatch[] = [];
  const items = listField(v, path, errs);
  if (items.length === 0) errs.push(`${path}: must have at least 1 item when set`);
  items.forEach((item, i) => {
    const p = `${path}[${i}]`;
    const r = asRecord(item) ?? {};
    const set = ["tcp", "udp", "sctp", "destinationNamedPort"].filter(
      (k) => r[k] !== undefined && r[k] !== null,
    );
    if (set.length !== 1) {
      errs.push(`${p}: exactly one of tcp, udp, sctp, destinationNamedPort must be set`);
      return;
    }
    const field = set[0] as string;
    if (field === "destinationNamedPort") {
      out.push(...namedMatch(r[field], `${p}.${field}`, errs));
      return;
    }
    const protocol = field.toUpperCase() as Protocol;
    const proto = asRecord(r[field]) ?? {};
    out.push(
      ...cnpDestinationPort(proto["destinationPort"], protocol, `${p}.${field}.destinationPort`, errs),
    );
  });
  return out;
}

function cnpDestinationPort(v: unknown, protocol: Protocol, path: string, errs: string[]): PortMatch[] {
  // The API documents an omitted destinationPort as "all ports of the protocol".
  if (v === undefined || v === null) return [{ kind: "all", protocol }];
  const r: Raw = asRecord(v) ?? {};
  const range = asRecord(r["range"]);
  if (r["number"] !== undefined && range !== undefined) {
    errs.push(`${path}: exactly one of number, range must be set`);
    return [];
  }
  if (range) return rangeMatch(range, protocol, `${path}.range`, errs);
  if (!isPortNumber(r["number"])) {
    errs.push(`${path}.number: must be between 1 and 65535, inclusive`);
    return [];
  }
  return [{ kind: "range", protocol, from: r["number"], to: r["number"] }];
}

function rangeMatch(r: Raw, protocol: Protocol, path: string, errs: string[]): PortMatch[] {
  const start = r["start"];
  const end = r["end"];
  if (!isPortNumber(start) || !isPortNumber(end)) {
    errs.push(`${path}: start and end must be between 1 and 65535, inclusive`);
    return [];
  }
  if (start >= end) {
    errs.push(`${path}: Start port must be less than End port`);
    return [];
  }
  return [{ kind: "range", protocol, from: start, to: end }];
}

function namedMatch(v: unknown, path: string, errs: string[]): PortMatch[] {
  if (typeof v !== "string" || v === "") {
    errs.push(`${path}: must be a port name`);
    return [];
  }
  // Admin named ports carry no protocol: the container port's own protocol applies.
  return [{ kind: "named", name: v }];
}
