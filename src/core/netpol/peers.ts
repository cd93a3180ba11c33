/**
 * Who a policy applies to (its subject) and which peers a rule names.
 *
 * NetworkPolicy peers: podSelector alone selects pods in the policy's own namespace;
 * namespaceSelector alone selects every pod in matching namespaces; both in one peer must both
 * match (AND); separate peers are alternatives (OR). ipBlock matches by address, so it matches
 * pods as well as outside addresses. Host-network pods are never matched by pod or namespace
 * selectors, only by address.
 */
import { matchesSelector } from "../k8s/index.js";
import type { Cluster } from "./cluster.js";
import type { IpAddress } from "./ip.js";
import { ipBlockContains } from "./ipblock.js";
import type { AdminPeer, AdminSubject, Endpoint, NetpolPeer, NetworkPolicy, Pod } from "./types.js";

function selectable(pod: Pod): boolean {
  return !pod.hostNetwork;
}

export function endpointIp(e: Endpoint): IpAddress | undefined {
  return e.kind === "pod" ? e.pod.ip : e.ip;
}

/** Whether a NetworkPolicy's podSelector selects the pod (same namespace only). */
export function netpolSelects(np: NetworkPolicy, pod: Pod): boolean {
  return pod.namespace === np.namespace && selectable(pod) && matchesSelector(np.podSelector, pod.labels);
}

export function netpolPeerMatches(c: Cluster, np: NetworkPolicy, peer: NetpolPeer, e: Endpoint): boolean {
  switch (peer.kind) {
    case "ipBlock":
      return ipBlockContains(peer.block, endpointIp(e));
    case "pods": {
      if (e.kind !== "pod" || !selectable(e.pod)) return false;
      const pod = e.pod;
      const nsOk =
        peer.namespaceSelector === undefined
          ? pod.namespace === np.namespace
          : matchesSelector(peer.namespaceSelector, c.namespaceLabels(pod.namespace));
      return nsOk && (peer.podSelector === undefined || matchesSelector(peer.podSelector, pod.labels));
    }
  }
}

/** Whether an admin policy's subject (namespaces, or namespaces AND pods) covers the pod. */
export function adminSubjectMatches(c: Cluster, s: AdminSubject, pod: Pod): boolean {
  if (!selectable(pod) || !matchesSelector(s.namespaceSelector, c.namespaceLabels(pod.namespace)))
    return false;
  return s.kind === "namespaces" || matchesSelector(s.podSelector, pod.labels);
}

export function adminPeerMatches(c: Cluster, peer: AdminPeer, e: Endpoint): boolean {
  switch (peer.kind) {
    case "namespaces":
    case "pods":
      return e.kind === "pod" && adminSubjectMatches(c, peer, e.pod);
    case "networks": {
      // Networks match cluster-internal addresses too (the API says so explicitly).
      const ip = endpointIp(e);
      return peer.blocks.some((b) => ipBlockContains(b, ip));
    }
    case "unsupported":
      return false;
  }
}
