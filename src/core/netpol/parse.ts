/**
 * SourcedObject[] → Model. Only Namespaces, Pods, NetworkPolicies and the network-policy-api
 * kinds are read; every other kind is ignored. Every invalid object is reported (with its file,
 * document and field path) before anything is evaluated: a simulator must never guess.
 */
import { groupVersion, type KubeObject, type Source, type SourcedObject } from "../k8s/index.js";
import { NetpolInputError, type NetpolIssue } from "./errors.js";
import { parseIp } from "./ip.js";
import { parseAdminPolicy } from "./parse-admin.js";
import { parseNetworkPolicy } from "./parse-netpol.js";
import { asRecord, listField, objectField, stringMap } from "./parse-util.js";
import { isPortNumber, isProtocol, portNameErrors } from "./ports.js";
import {
  podKey,
  type AdminKind,
  type AdminPolicy,
  type ContainerPort,
  type Model,
  type Namespace,
  type NetworkPolicy,
  type Pod,
} from "./types.js";

/** The label the API server puts on every namespace (immutable, equal to its name). */
export const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

const ADMIN_KINDS: Record<string, AdminKind | undefined> = {
  AdminNetworkPolicy: "AdminNetworkPolicy",
  BaselineAdminNetworkPolicy: "BaselineAdminNetworkPolicy",
  ClusterNetworkPolicy: "ClusterNetworkPolicy",
};

/** Build the model; throws NetpolInputError listing every invalid or duplicate object. */
export function parseModel(objects: readonly SourcedObject[]): Model {
  const issues: NetpolIssue[] = [];
  const namespaces = new Map<string, Namespace>();
  const pods = new Map<string, Pod>();
  const policies = new Map<string, NetworkPolicy>();
  const admin = new Map<string, AdminPolicy>();
  const seen = new Map<string, Source>();

  for (const { object, source } of objects) {
    const { group } = groupVersion(object.apiVersion);
    const kind = object.kind ?? "";
    const adminKind = group === "policy.networking.k8s.io" ? ADMIN_KINDS[kind] : undefined;
    const known =
      (group === "" && (kind === "Namespace" || kind === "Pod")) ||
      (group === "networking.k8s.io" && kind === "NetworkPolicy") ||
      adminKind !== undefined;
    if (!known) continue; // not a networking object: ignored by design

    const errs: string[] = [];
    const meta = asRecord(object.metadata) ?? {};
    const name = typeof meta["name"] === "string" ? meta["name"] : "";
    if (name === "") errs.push("metadata.name: Required value");
    const clusterScoped = kind === "Namespace" || adminKind !== undefined;
    // As kubectl apply without -n: a namespaced object with no namespace lands in "default".
    const ns = clusterScoped
      ? ""
      : typeof meta["namespace"] === "string" && meta["namespace"] !== ""
        ? meta["namespace"]
        : "default";
    const subject = clusterScoped ? `${kind} ${name || "<unnamed>"}` : `${kind} ${ns}/${name || "<unnamed>"}`;
    const key = `${kind}:${ns}/${name}`;
    const prev = seen.get(key);
    if (prev && name !== "") {
      issues.push({
        code: "DuplicateObject",
        source,
        subject,
        message: `defined twice (first at ${prev.file} document ${prev.document})`,
      });
      continue;
    }
    seen.set(key, source);

    if (kind === "Namespace") {
      const labels = stringMap(meta["labels"], "metadata.labels", errs);
      namespaces.set(name, { name, labels: { ...labels, [NAMESPACE_NAME_LABEL]: name }, source });
    } else if (kind === "Pod") {
      pods.set(podKey({ namespace: ns, name }), parsePod(object, meta, name, ns, source, errs));
    } else if (kind === "NetworkPolicy") {
      policies.set(`${ns}/${name}`, parseNetworkPolicy(object, name, ns, source, errs));
    } else if (adminKind !== undefined) {
      admin.set(`${adminKind}/${name}`, parseAdminPolicy(object, adminKind, name, source, errs));
    }
    for (const message of errs) issues.push({ code: "InvalidObject", source, subject, message });
  }
  if (issues.length > 0) throw new NetpolInputError(issues);

  // Pods and policies may name namespaces no file defines: the namespace still exists in a cluster.
  for (const x of [...pods.values(), ...policies.values()]) {
    if (!namespaces.has(x.namespace))
      namespaces.set(x.namespace, { name: x.namespace, labels: { [NAMESPACE_NAME_LABEL]: x.namespace } });
  }
  const byKey = <T extends { name: string; namespace?: string }>(a: T, b: T): number =>
    (a.namespace ?? "").localeCompare(b.namespace ?? "") || a.name.localeCompare(b.name);
  return {
    namespaces: [...namespaces.values()].sort(byKey),
    pods: [...pods.values()].sort(byKey),
    policies: [...policies.values()].sort(byKey),
    adminPolicies: [...admin.values()],
  };
}

function parsePod(
  obj: KubeObject,
  meta: Record<string, unknown>,
  name: string,
  namespace: string,
  source: Source,
  errs: string[],
): Pod {
  const labels = stringMap(meta["labels"], "metadata.labels", errs);
  const spec = objectField(obj["spec"], "spec", errs) ?? {};
  const status = objectField(obj["status"], "status", errs) ?? {};
  const ports: ContainerPort[] = [];
  listField(spec["containers"], "spec.containers", errs).forEach((c, i) => {
    const container = asRecord(c) ?? {};
    listField(container["ports"], `spec.containers[${i}].ports`, errs).forEach((p, j) => {
      const path = `spec.containers[${i}].ports[${j}]`;
      const r = asRecord(p) ?? {};
      const port = r["containerPort"];
      const protocol = r["protocol"] ?? "TCP";
      if (!isPortNumber(port)) errs.push(`${path}.containerPort: must be between 1 and 65535, inclusive`);
      if (!isProtocol(protocol))
        errs.push(`${path}.protocol: Unsupported value: ${JSON.stringify(protocol)}`);
      const portName = r["name"];
      if (portName !== undefined && (typeof portName !== "string" || portNameErrors(portName).length > 0))
        errs.push(`${path}.name: not a valid port name: ${JSON.stringify(portName)}`);
      if (isPortNumber(port) && isProtocol(protocol))
        ports.push({ port, protocol, ...(typeof portName === "string" ? { name: portName } : {}) });
    });
  });
  const firstPodIps = asRecord(listField(status["podIPs"], "status.podIPs", errs)[0]);
  const ipText =
    typeof status["podIP"] === "string" && status["podIP"] !== "" ? status["podIP"] : firstPodIps?.["ip"];
  const ip = typeof ipText === "string" ? parseIp(ipText) : undefined;
  if (ipText !== undefined && ip === undefined)
    errs.push(`status.podIP: not a valid IP address: ${JSON.stringify(ipText)}`);
  return {
    namespace,
    name,
    labels,
    ...(ip !== undefined ? { ip } : {}),
    ports,
    hostNetwork: spec["hostNetwork"] === true,
    source,
  };
}
