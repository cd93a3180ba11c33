/**
 * Peer sets as bit sets over the cluster's pods, computed once per distinct selector (an "atom")
 * and cached: two policies naming the same peer share the work. Matching is the same as
 * peers.ts, only done for all pods at once, using a label index to avoid testing every pod.
 */
import { matchesSelector, type LabelSelector } from "../k8s/index.js";
import { emptyBits, fullBits, setBit, type Bits } from "./bitset.js";
import type { Cluster } from "./cluster.js";
import { ipBlockContains } from "./ipblock.js";
import { selectorText } from "./parse-util.js";
import { resolveNamedPort } from "./ports.js";
import type { AdminPeer, IpBlock, NetpolPeer, NetworkPolicy, PortMatch, Protocol } from "./types.js";

export interface PeerSets {
  /** Every pod. */
  readonly all: Bits;
  netpolPeer(np: NetworkPolicy, peer: NetpolPeer): Bits;
  adminPeer(peer: AdminPeer): Bits;
  /** Pods whose container port named by `m` is (port, protocol): destinations a named rule covers. */
  namedPort(m: PortMatch & { kind: "named" }, port: number, protocol: Protocol): Bits;
  /** How many distinct atoms were computed (for statistics). */
  atomCount(): number;
}

export function peerSets(c: Cluster): PeerSets {
  const pods = c.pods;
  const n = pods.length;
  const all = fullBits(n);
  const byNs = new Map<string, number[]>();
  const byLabel = new Map<string, number[]>();
  pods.forEach((p, i) => {
    if (p.hostNetwork) return; // invisible to selectors
    const list = byNs.get(p.namespace) ?? [];
    list.push(i);
    byNs.set(p.namespace, list);
    for (const [k, v] of Object.entries(p.labels)) {
      const key = `${k}=${v}`;
      const l = byLabel.get(key) ?? [];
      l.push(i);
      byLabel.set(key, l);
    }
  });
  const cache = new Map<string, Bits>();
  const memo = (key: string, compute: () => Bits): Bits => {
    let b = cache.get(key);
    if (b === undefined) {
      b = compute();
      cache.set(key, b);
    }
    return b;
  };
  const namespaces = (sel: LabelSelector): Set<string> =>
    new Set([...byNs.keys()].filter((ns) => matchesSelector(sel, c.namespaceLabels(ns))));

  /** Pods in `nsSet` whose labels match `sel` (undefined: every pod). */
  const select = (nsSet: Set<string>, sel: LabelSelector | undefined): Bits => {
    const out = emptyBits(n);
    const first = Object.entries(sel?.matchLabels ?? {})[0];
    // A matchLabels entry narrows candidates to one posting list; else scan the namespaces.
    const candidates =
      first !== undefined
        ? (byLabel.get(`${first[0]}=${first[1]}`) ?? [])
        : [...nsSet].flatMap((ns) => byNs.get(ns) ?? []);
    for (const i of candidates) {
      const p = pods[i];
      if (p !== undefined && nsSet.has(p.namespace) && (sel === undefined || matchesSelector(sel, p.labels)))
        setBit(out, i);
    }
    return out;
  };
  const byBlocks = (blocks: readonly IpBlock[]): Bits => {
    const out = emptyBits(n);
    pods.forEach((p, i) => {
      if (blocks.some((b) => ipBlockContains(b, p.ip))) setBit(out, i);
    });
    return out;
  };
  const text = (s: LabelSelector | undefined): string => (s === undefined ? "-" : selectorText(s));

  return {
    all,
    netpolPeer(np, peer) {
      if (peer.kind === "ipBlock") return memo(`ip|${peer.block.text}`, () => byBlocks([peer.block]));
      const scope =
        peer.namespaceSelector === undefined ? `own:${np.namespace}` : `ns:${text(peer.namespaceSelector)}`;
      return memo(`np|${scope}|${text(peer.podSelector)}`, () =>
        select(
          peer.namespaceSelector === undefined ? new Set([np.namespace]) : namespaces(peer.namespaceSelector),
          peer.podSelector,
        ),
      );
    },
    adminPeer(peer) {
      switch (peer.kind) {
        case "namespaces":
          return memo(`adm|${text(peer.namespaceSelector)}`, () =>
            select(namespaces(peer.namespaceSelector), undefined),
          );
        case "pods":
          return memo(`adm|${text(peer.namespaceSelector)}|${text(peer.podSelector)}`, () =>
            select(namespaces(peer.namespaceSelector), peer.podSelector),
          );
        case "networks":
          return memo(`net|${peer.blocks.map((b) => b.text).join(",")}`, () => byBlocks(peer.blocks));
        case "unsupported":
          return memo("none", () => emptyBits(n));
      }
    },
    namedPort(m, port, protocol) {
      return memo(`named|${m.name}|${m.protocol ?? "*"}|${port}|${protocol}`, () => {
        const out = emptyBits(n);
        if (m.protocol !== undefined && m.protocol !== protocol) return out;
        pods.forEach((p, i) => {
          if (resolveNamedPort(p, m.name, protocol) === port) setBit(out, i);
        });
        return out;
      });
    },
    atomCount: () => cache.size,
  };
}
