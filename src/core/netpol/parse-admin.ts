/**
 * Cluster-admin policies of kubernetes-sigs/network-policy-api → model:
 * AdminNetworkPolicy and BaselineAdminNetworkPolicy (policy.networking.k8s.io/v1alpha1) and their
 * successor ClusterNetworkPolicy (v1alpha2, tiers Admin and Baseline). Validation mirrors the CRDs.
 */
import type { KubeObject, Source } from "../k8s/index.js";
import { parseCidr } from "./ip.js";
import { cidrAsBlock } from "./ipblock.js";
import { parseAnpPorts, parseCnpProtocols } from "./parse-ports.js";
import { asRecord, listField, objectField, selectorField, type Raw } from "./parse-util.js";
import type {
  AdminAction,
  AdminKind,
  AdminPeer,
  AdminPolicy,
  AdminRule,
  AdminSubject,
  AdminTier,
  IpBlock,
  Ports,
} from "./types.js";

/** BANP has no priority; it is evaluated after every Baseline-tier ClusterNetworkPolicy. */
export const BANP_PRIORITY = 1001;

export function parseAdminPolicy(
  obj: KubeObject,
  kind: AdminKind,
  name: string,
  source: Source,
  errs: string[],
): AdminPolicy {
  const spec = objectField(obj["spec"], "spec", errs) ?? {};
  let tier: AdminTier = "Admin";
  let priority = BANP_PRIORITY;
  if (kind === "ClusterNetworkPolicy") {
    if (spec["tier"] === "Admin" || spec["tier"] === "Baseline") tier = spec["tier"];
    else
      errs.push(
        `spec.tier: Unsupported value: ${JSON.stringify(spec["tier"])}: supported values: "Admin", "Baseline"`,
      );
  } else if (kind === "BaselineAdminNetworkPolicy") {
    tier = "Baseline";
    if (name !== "default")
      errs.push(
        `metadata.name: Only one baseline admin network policy with metadata.name="default" can be created in the cluster`,
      );
  }
  if (kind !== "BaselineAdminNetworkPolicy") {
    const p = spec["priority"];
    if (typeof p !== "number" || !Number.isInteger(p) || p < 0 || p > 1000)
      errs.push(`spec.priority: must be an integer from 0 to 1000`);
    else priority = p;
  }
  const actions = allowedActions(kind);
  const portsOf = (r: Raw, path: string): Ports =>
    kind === "ClusterNetworkPolicy"
      ? parseCnpProtocols(r["protocols"], `${path}.protocols`, errs)
      : parseAnpPorts(r["ports"], `${path}.ports`, errs);
  const rules = (dir: "ingress" | "egress"): AdminRule[] =>
    listField(spec[dir], `spec.${dir}`, errs).map((raw, i) => {
      const path = `spec.${dir}[${i}]`;
      const r = asRecord(raw) ?? {};
      const actionText = typeof r["action"] === "string" ? r["action"] : "";
      const action = actions[actionText];
      if (action === undefined)
        errs.push(
          `${path}.action: Unsupported value: ${JSON.stringify(r["action"])}: supported values: ${Object.keys(
            actions,
          )
            .map((a) => `"${a}"`)
            .join(", ")}`,
        );
      const peerField = dir === "ingress" ? "from" : "to";
      const rawPeers = listField(r[peerField], `${path}.${peerField}`, errs);
      if (rawPeers.length === 0) errs.push(`${path}.${peerField}: must have at least 1 item`);
      const peers = rawPeers.flatMap((p, j) => parsePeer(p, `${path}.${peerField}[${j}]`, dir, errs));
      return {
        ...(typeof r["name"] === "string" && r["name"] !== "" ? { name: r["name"] } : {}),
        actionText,
        action: action ?? "Deny",
        peers,
        ports: portsOf(r, path),
      };
    });
  return {
    kind,
    name,
    tier,
    priority,
    subject: parseSubject(spec["subject"], "spec.subject", errs),
    ingress: rules("ingress"),
    egress: rules("egress"),
    source,
  };
}

function allowedActions(kind: AdminKind): Record<string, AdminAction> {
  switch (kind) {
    case "AdminNetworkPolicy":
      return { Allow: "Allow", Deny: "Deny", Pass: "Pass" };
    case "BaselineAdminNetworkPolicy":
      return { Allow: "Allow", Deny: "Deny" };
    case "ClusterNetworkPolicy":
      return { Accept: "Allow", Deny: "Deny", Pass: "Pass" };
  }
}

function oneField(r: Raw, fields: readonly string[], path: string, errs: string[]): string | undefined {
  const set = fields.filter((f) => r[f] !== undefined && r[f] !== null);
  if (set.length !== 1) {
    errs.push(`${path}: exactly one of ${fields.join(", ")} must be set`);
    return undefined;
  }
  return set[0];
}

function parseSubject(raw: unknown, path: string, errs: string[]): AdminSubject {
  const r = asRecord(raw) ?? {};
  const field = oneField(r, ["namespaces", "pods"], path, errs);
  if (field === "pods") return namespacedPod(r["pods"], `${path}.pods`, errs);
  return {
    kind: "namespaces",
    namespaceSelector: selectorField(r["namespaces"], `${path}.namespaces`, errs, "empty") ?? {},
  };
}

function namespacedPod(raw: unknown, path: string, errs: string[]): AdminSubject {
  const r = asRecord(raw) ?? {};
  return {
    kind: "pods",
    namespaceSelector:
      selectorField(r["namespaceSelector"], `${path}.namespaceSelector`, errs, "empty") ?? {},
    podSelector: selectorField(r["podSelector"], `${path}.podSelector`, errs, "empty") ?? {},
  };
}

function parsePeer(raw: unknown, path: string, dir: "ingress" | "egress", errs: string[]): AdminPeer[] {
  const r = asRecord(raw) ?? {};
  const fields =
    dir === "ingress" ? ["namespaces", "pods"] : ["namespaces", "pods", "nodes", "networks", "domainNames"];
  const field = oneField(r, fields, path, errs);
  switch (field) {
    case undefined:
      return [];
    case "namespaces":
      return [
        {
          kind: "namespaces",
          namespaceSelector: selectorField(r[field], `${path}.${field}`, errs, "empty") ?? {},
        },
      ];
    case "pods":
      return [namespacedPod(r[field], `${path}.${field}`, errs)];
    case "networks": {
      const blocks: IpBlock[] = [];
      listField(r[field], `${path}.networks`, errs).forEach((c, i) => {
        const cidr = typeof c === "string" ? parseCidr(c) : undefined;
        if (cidr === undefined)
          errs.push(`${path}.networks[${i}]: Invalid CIDR format provided: ${JSON.stringify(c)}`);
        else blocks.push(cidrAsBlock(cidr));
      });
      return [{ kind: "networks", blocks }];
    }
    default:
      return [{ kind: "unsupported", field: field === "nodes" ? "nodes" : "domainNames" }];
  }
}
