/**
 * networking.k8s.io/v1 NetworkPolicy → model, with the API server's defaulting and validation:
 * policyTypes defaults to [Ingress] plus Egress when egress rules exist; an empty or missing
 * from/to matches every peer; an empty or missing ports list matches every port.
 */
import type { KubeObject, Source } from "../k8s/index.js";
import { parseIpBlock } from "./ipblock.js";
import { parseNetpolPorts } from "./parse-ports.js";
import { asRecord, listField, objectField, selectorField } from "./parse-util.js";
import type { NetpolPeer, NetpolRule, NetworkPolicy } from "./types.js";

export function parseNetworkPolicy(
  obj: KubeObject,
  name: string,
  namespace: string,
  source: Source,
  errs: string[],
): NetworkPolicy {
  const spec = objectField(obj["spec"], "spec", errs) ?? {};
  const podSelector = selectorField(spec["podSelector"], "spec.podSelector", errs, "empty") ?? {};
  const rawIngress = listField(spec["ingress"], "spec.ingress", errs);
  const rawEgress = listField(spec["egress"], "spec.egress", errs);
  const ingress = rawIngress.map((r, i) => parseRule(r, `spec.ingress[${i}]`, "from", errs));
  const egress = rawEgress.map((r, i) => parseRule(r, `spec.egress[${i}]`, "to", errs));

  const types = listField(spec["policyTypes"], "spec.policyTypes", errs);
  if (types.length > 2) errs.push("spec.policyTypes: may not specify more than two policyTypes");
  types.forEach((t, i) => {
    if (t !== "Ingress" && t !== "Egress")
      errs.push(
        `spec.policyTypes[${i}]: Unsupported value: ${JSON.stringify(t)}: supported values: "Ingress", "Egress"`,
      );
  });
  const explicit = types.length > 0;
  const policyTypes = explicit
    ? { ingress: types.includes("Ingress"), egress: types.includes("Egress") }
    : { ingress: true, egress: rawEgress.length > 0 };

  return {
    kind: "NetworkPolicy",
    namespace,
    name,
    podSelector,
    policyTypes,
    policyTypesExplicit: explicit,
    written: {
      ingress: spec["ingress"] !== undefined && spec["ingress"] !== null,
      egress: spec["egress"] !== undefined && spec["egress"] !== null,
    },
    ingress,
    egress,
    source,
  };
}

function parseRule(raw: unknown, path: string, peersField: "from" | "to", errs: string[]): NetpolRule {
  const r = asRecord(raw);
  if (r === undefined) {
    if (raw !== null) errs.push(`${path}: must be an object`);
    return { peers: undefined, ports: undefined };
  }
  const rawPeers = listField(r[peersField], `${path}.${peersField}`, errs);
  const peers = rawPeers.flatMap((p, i) => parsePeer(p, `${path}.${peersField}[${i}]`, errs));
  return {
    peers: rawPeers.length === 0 ? undefined : peers,
    ports: parseNetpolPorts(r["ports"], `${path}.ports`, errs),
  };
}

function parsePeer(raw: unknown, path: string, errs: string[]): NetpolPeer[] {
  const r = asRecord(raw) ?? {};
  const podSelector = selectorField(r["podSelector"], `${path}.podSelector`, errs, "absent");
  const namespaceSelector = selectorField(
    r["namespaceSelector"],
    `${path}.namespaceSelector`,
    errs,
    "absent",
  );
  const hasIpBlock = r["ipBlock"] !== undefined && r["ipBlock"] !== null;
  if (hasIpBlock) {
    if (podSelector !== undefined || namespaceSelector !== undefined) {
      errs.push(`${path}: Forbidden: may not specify both ipBlock and another peer`);
      return [];
    }
    const res = parseIpBlock(r["ipBlock"], `${path}.ipBlock`);
    if (!res.ok) {
      errs.push(...res.errors);
      return [];
    }
    return [{ kind: "ipBlock", block: res.block }];
  }
  if (podSelector === undefined && namespaceSelector === undefined) {
    errs.push(`${path}: Required value: must specify a peer`);
    return [];
  }
  return [
    {
      kind: "pods",
      ...(podSelector !== undefined ? { podSelector } : {}),
      ...(namespaceSelector !== undefined ? { namespaceSelector } : {}),
    },
  ];
}
