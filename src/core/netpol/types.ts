/**
 * The validated, immutable model the simulator works on. Parsing (parse.ts) turns Kubernetes
 * objects into these shapes after defaulting exactly as the API server does (policyTypes,
 * protocol TCP, the namespace name label), so evaluation never has to think about YAML again.
 */
import type { LabelSelector, Labels, Source } from "../k8s/index.js";
import type { CidrBlock, IpAddress } from "./ip.js";

export type Protocol = "TCP" | "UDP" | "SCTP";
export const PROTOCOLS: readonly Protocol[] = ["TCP", "UDP", "SCTP"];

export type Direction = "ingress" | "egress";

export interface Namespace {
  readonly name: string;
  /** Always holds kubernetes.io/metadata.name, as the API server guarantees. */
  readonly labels: Labels;
  /** Absent when the namespace was implied by a pod or policy rather than given. */
  readonly source?: Source;
}

export interface ContainerPort {
  readonly port: number;
  readonly protocol: Protocol;
  readonly name?: string;
}

export interface Pod {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Labels;
  /** The primary address (status.podIP, else status.podIPs[0]); pods without one match no ipBlock. */
  readonly ip?: IpAddress;
  readonly ports: readonly ContainerPort[];
  /** Host-network pods are invisible to pod and namespace selectors (the common CNI behaviour). */
  readonly hostNetwork: boolean;
  readonly source: Source;
}

/** Which destination ports a rule covers, for one protocol (or, for named ports, possibly any). */
export type PortMatch =
  | { readonly kind: "all"; readonly protocol: Protocol }
  | { readonly kind: "range"; readonly protocol: Protocol; readonly from: number; readonly to: number }
  /** A container port name on the destination pod; protocol undefined = whatever the container port says. */
  | { readonly kind: "named"; readonly name: string; readonly protocol?: Protocol };

/** `undefined` ports means every port of every protocol. */
export type Ports = readonly PortMatch[] | undefined;

export interface IpBlock {
  readonly cidr: CidrBlock;
  readonly except: readonly CidrBlock[];
  /** The text as written, for explanations. */
  readonly text: string;
}

/** A NetworkPolicyPeer. namespaceSelector undefined means "the policy's own namespace". */
export type NetpolPeer =
  | {
      readonly kind: "pods";
      readonly podSelector?: LabelSelector;
      readonly namespaceSelector?: LabelSelector;
    }
  | { readonly kind: "ipBlock"; readonly block: IpBlock };

export interface NetpolRule {
  /** undefined: the rule has no from/to, so it matches every peer. */
  readonly peers: readonly NetpolPeer[] | undefined;
  readonly ports: Ports;
}

export interface NetworkPolicy {
  readonly kind: "NetworkPolicy";
  readonly namespace: string;
  readonly name: string;
  readonly podSelector: LabelSelector;
  /** After defaulting: Ingress always unless listed otherwise; Egress when egress rules exist. */
  readonly policyTypes: { readonly ingress: boolean; readonly egress: boolean };
  /** Whether policyTypes was written, or defaulted (for lint). */
  readonly policyTypesExplicit: boolean;
  /** Whether spec.ingress / spec.egress were written at all, even empty (for lint). */
  readonly written: { readonly ingress: boolean; readonly egress: boolean };
  readonly ingress: readonly NetpolRule[];
  readonly egress: readonly NetpolRule[];
  readonly source: Source;
}

export type AdminKind = "AdminNetworkPolicy" | "BaselineAdminNetworkPolicy" | "ClusterNetworkPolicy";
export type AdminTier = "Admin" | "Baseline";
/** Allow covers AdminNetworkPolicy's Allow and ClusterNetworkPolicy's Accept. */
export type AdminAction = "Allow" | "Deny" | "Pass";

export type AdminSubject =
  | { readonly kind: "namespaces"; readonly namespaceSelector: LabelSelector }
  | {
      readonly kind: "pods";
      readonly namespaceSelector: LabelSelector;
      readonly podSelector: LabelSelector;
    };

export type AdminPeer =
  | AdminSubject
  | { readonly kind: "networks"; readonly blocks: readonly IpBlock[] }
  /** nodes and domainNames peers: not simulated, they match nothing here (lint says so). */
  | { readonly kind: "unsupported"; readonly field: "nodes" | "domainNames" };

export interface AdminRule {
  readonly name?: string;
  /** The action as written (Accept for ClusterNetworkPolicy), for explanations. */
  readonly actionText: string;
  readonly action: AdminAction;
  readonly peers: readonly AdminPeer[];
  readonly ports: Ports;
}

export interface AdminPolicy {
  readonly kind: AdminKind;
  readonly name: string;
  readonly tier: AdminTier;
  /** BaselineAdminNetworkPolicy has none; it sorts after every Baseline ClusterNetworkPolicy. */
  readonly priority: number;
  readonly subject: AdminSubject;
  readonly ingress: readonly AdminRule[];
  readonly egress: readonly AdminRule[];
  readonly source: Source;
}

export interface Model {
  readonly namespaces: readonly Namespace[];
  readonly pods: readonly Pod[];
  readonly policies: readonly NetworkPolicy[];
  readonly adminPolicies: readonly AdminPolicy[];
}

/** One end of a connection: a pod, or an address outside the cluster. */
export type Endpoint =
  { readonly kind: "pod"; readonly pod: Pod } | { readonly kind: "external"; readonly ip: IpAddress };

export function podKey(p: { namespace: string; name: string }): string {
  return `${p.namespace}/${p.name}`;
}
