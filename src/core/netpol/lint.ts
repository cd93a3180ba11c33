/**
 * Common NetworkPolicy mistakes, as findings with a closed set of codes. Warnings are likely
 * bugs (a policy selecting nothing, DNS cut off by an egress policy, rules the policy ignores,
 * an isolation that allows everything); infos are facts worth knowing (defaulted policyTypes,
 * pods whose every ingress or egress is blocked).
 */
import type { Source } from "../k8s/index.js";
import { peerSets } from "./atoms.js";
import { isEmpty } from "./bitset.js";
import type { Cluster } from "./cluster.js";
import { evaluateDirection } from "./evaluate.js";
import { explainDirection } from "./explain.js";
import { NAMESPACE_NAME_LABEL } from "./parse.js";
import { adminSubjectMatches, netpolSelects } from "./peers.js";
import { podKey, type AdminPolicy, type Direction, type NetworkPolicy, type Pod } from "./types.js";

export type LintCode =
  | "SelectsNothing"
  | "DnsBlocked"
  | "PolicyTypesDefaulted"
  | "EgressDenyIneffective"
  | "RulesIgnored"
  | "AllTrafficBlocked"
  | "AllTrafficAllowed"
  | "NamedPortUnknown"
  | "UnsupportedPeer"
  | "SamePriority";

export interface Finding {
  readonly code: LintCode;
  readonly severity: "warning" | "info";
  /** "NetworkPolicy x/deny-all", "pods x/a, x/b" */
  readonly object: string;
  readonly source?: Source;
  readonly message: string;
}

const npName = (np: NetworkPolicy): string => `NetworkPolicy ${np.namespace}/${np.name}`;
const adminName = (a: AdminPolicy): string => `${a.kind} ${a.name}`;
const DIRS: readonly Direction[] = ["ingress", "egress"];

export function lint(c: Cluster): Finding[] {
  return [...policyFindings(c), ...adminFindings(c), ...podFindings(c), ...dnsFindings(c)];
}

function policyFindings(c: Cluster): Finding[] {
  const out: Finding[] = [];
  const containerPortNames = new Set(
    c.pods.flatMap((p) => p.ports.map((q) => `${q.name ?? ""}/${q.protocol}`)),
  );
  for (const np of c.model.policies) {
    const at = { object: npName(np), source: np.source };
    if (c.pods.length > 0 && !c.pods.some((p) => netpolSelects(np, p)))
      out.push({
        ...at,
        code: "SelectsNothing",
        severity: "warning",
        message: `podSelector selects no pod in namespace ${np.namespace}`,
      });
    if (!np.policyTypesExplicit) {
      if (np.written.egress && np.egress.length === 0)
        out.push({
          ...at,
          code: "EgressDenyIneffective",
          severity: "warning",
          message:
            "spec.egress is empty but policyTypes is not set, so the policy is Ingress-only: it blocks all ingress and restricts no egress; add policyTypes: [Egress]",
        });
      else
        out.push({
          ...at,
          code: "PolicyTypesDefaulted",
          severity: "info",
          message:
            `policyTypes is not set; it defaults to [${[np.policyTypes.ingress ? "Ingress" : "", np.policyTypes.egress ? "Egress" : ""].filter(Boolean).join(", ")}]` +
            (np.policyTypes.egress && np.ingress.length === 0
              ? ", which also blocks all ingress to the selected pods"
              : ""),
        });
    }
    for (const d of DIRS)
      if (!np.policyTypes[d] && np[d].length > 0)
        out.push({
          ...at,
          code: "RulesIgnored",
          severity: "warning",
          message: `has ${d} rules but policyTypes does not list ${d === "ingress" ? "Ingress" : "Egress"}, so they are ignored`,
        });
    for (const d of DIRS)
      for (const rule of np[d])
        for (const m of rule.ports ?? [])
          if (
            m.kind === "named" &&
            c.pods.length > 0 &&
            !containerPortNames.has(`${m.name}/${m.protocol ?? "TCP"}`)
          )
            out.push({
              ...at,
              code: "NamedPortUnknown",
              severity: "warning",
              message: `${d} port ${m.protocol ?? "TCP"}/${m.name} is not a container port of any pod, so it matches nothing`,
            });
  }
  return out;
}

function adminFindings(c: Cluster): Finding[] {
  const out: Finding[] = [];
  const all = [...c.adminTier, ...c.baselineTier];
  for (const a of all) {
    const at = { object: adminName(a), source: a.source };
    if (c.pods.length > 0 && !c.pods.some((p) => adminSubjectMatches(c, a.subject, p)))
      out.push({ ...at, code: "SelectsNothing", severity: "warning", message: "subject selects no pod" });
    for (const d of DIRS)
      for (const r of a[d])
        for (const p of r.peers)
          if (p.kind === "unsupported")
            out.push({
              ...at,
              code: "UnsupportedPeer",
              severity: "warning",
              message:
                `${d} rule ${r.name ?? ""} has a ${p.field} peer, which the simulator cannot evaluate: it is treated as matching nothing`.replace(
                  "  ",
                  " ",
                ),
            });
  }
  for (const tier of [c.adminTier, c.baselineTier])
    for (let i = 0; i < tier.length; i++)
      for (let j = i + 1; j < tier.length; j++) {
        const a = tier[i] as AdminPolicy;
        const b = tier[j] as AdminPolicy;
        if (a.priority !== b.priority || a.kind === "BaselineAdminNetworkPolicy") continue;
        if (c.pods.some((p) => adminSubjectMatches(c, a.subject, p) && adminSubjectMatches(c, b.subject, p)))
          out.push({
            object: `${adminName(a)}, ${adminName(b)}`,
            source: b.source,
            code: "SamePriority",
            severity: "warning",
            message: `both have priority ${a.priority} and select the same pods: their order is undefined upstream (simulated by kind, then name)`,
          });
      }
  return out;
}

/** Per group of pods isolated by the same policies: all-blocked / all-allowed isolation. */
function podFindings(c: Cluster): Finding[] {
  const out: Finding[] = [];
  const sets = peerSets(c);
  for (const d of DIRS) {
    const groups = new Map<string, { policies: NetworkPolicy[]; pods: Pod[] }>();
    for (const pod of c.pods) {
      const policies = c
        .policiesIn(pod.namespace)
        .filter((np) => np.policyTypes[d] && netpolSelects(np, pod));
      if (policies.length === 0) continue;
      const key = policies.map(npName).join(",");
      const g = groups.get(key) ?? { policies, pods: [] };
      g.pods.push(pod);
      groups.set(key, g);
    }
    for (const { policies, pods } of groups.values()) {
      const object = podsText(pods);
      const by = policies.map((p) => `${p.namespace}/${p.name}`).join(", ");
      const rules = policies.flatMap((np) => np[d].map((rule) => ({ np, rule })));
      const openRule = rules.find(({ rule }) => rule.peers === undefined && rule.ports === undefined);
      if (openRule !== undefined) {
        out.push({
          object,
          code: "AllTrafficAllowed",
          severity: "warning",
          source: openRule.np.source,
          message: `${npName(openRule.np)} allows all ${d} (a rule with no peers and no ports), so isolating these pods for ${d} has no effect`,
        });
      }
      const canMatch = rules.some(
        ({ np, rule }) =>
          rule.peers === undefined ||
          rule.peers.some((p) => p.kind === "ipBlock" || !isEmpty(sets.netpolPeer(np, p))),
      );
      if (!canMatch)
        out.push({
          object,
          code: "AllTrafficBlocked",
          severity: "info",
          message: `all ${d} ${d === "ingress" ? "to" : "from"} these pods is blocked by ${by} (no rule matches any peer), unless an admin policy allows it`,
        });
    }
  }
  return out;
}

/** Pods whose egress to the cluster DNS on UDP/53 is blocked, grouped by the reason. */
function dnsFindings(c: Cluster): Finding[] {
  const dns = dnsTarget(c);
  const blocked = new Map<string, Pod[]>();
  for (const pod of c.pods) {
    if (pod === dns.pod || pod.hostNetwork) continue;
    const v = evaluateDirection(
      dns.cluster,
      "egress",
      { kind: "pod", pod },
      { kind: "pod", pod: dns.pod },
      { port: 53, protocol: "UDP", destination: dns.pod },
    );
    if (v.allowed) continue;
    const why = explainDirection(v);
    blocked.set(why, [...(blocked.get(why) ?? []), pod]);
  }
  return [...blocked.entries()].map(([why, pods]) => ({
    object: podsText(pods),
    code: "DnsBlocked" as const,
    severity: "warning" as const,
    message: `cannot resolve names: UDP/53 to ${dns.text} is blocked (${why})`,
  }));
}

function podsText(pods: readonly Pod[]): string {
  const names = pods.slice(0, 5).map(podKey).join(", ");
  return pods.length > 5
    ? `pods ${names} and ${pods.length - 5} more`
    : `pod${pods.length > 1 ? "s" : ""} ${names}`;
}

/** The cluster DNS pods (kube-system, k8s-app=kube-dns) if given, else a stand-in with their usual labels and ports. */
function dnsTarget(c: Cluster): { cluster: Cluster; pod: Pod; text: string } {
  const real = c.pods.find((p) => p.namespace === "kube-system" && p.labels["k8s-app"] === "kube-dns");
  if (real !== undefined) return { cluster: c, pod: real, text: podKey(real) };
  const pod: Pod = {
    namespace: "kube-system",
    name: "kube-dns",
    labels: { "k8s-app": "kube-dns" },
    ports: [
      { port: 53, protocol: "UDP", name: "dns" },
      { port: 53, protocol: "TCP", name: "dns-tcp" },
    ],
    hostNetwork: false,
    source: { file: "<cluster DNS>", document: 0 },
  };
  const known = c.model.namespaces.some((n) => n.name === "kube-system");
  const cluster: Cluster = known
    ? c
    : {
        ...c,
        namespaceLabels: (ns) =>
          ns === "kube-system" ? { [NAMESPACE_NAME_LABEL]: "kube-system" } : c.namespaceLabels(ns),
      };
  return { cluster, pod, text: "the cluster DNS (kube-system pods labelled k8s-app=kube-dns)" };
}
