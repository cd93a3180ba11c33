/**
 * A synthetic cluster for the NetworkPolicy benchmark: N namespaces of P pods, ten policies per
 * namespace of the kinds real clusters have (default deny both ways with DNS allowed, app-to-app
 * rules on named and numbered ports, namespace-label rules, CIDR egress with except), plus a few
 * admin policies. Deterministic: the same seed gives the same cluster.
 */
import type { KubeObject } from "../src/core/k8s/index.js";

/** mulberry32: a small seeded PRNG, so runs are reproducible. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface ClusterShape {
  readonly namespaces: number;
  readonly podsPerNamespace: number;
  readonly seed: number;
}

const APPS = 10;
const TEAMS = 20;

export function syntheticCluster(shape: ClusterShape): KubeObject[] {
  const rnd = prng(shape.seed);
  const pick = (n: number): number => Math.floor(rnd() * n);
  const objs: KubeObject[] = [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: "kube-system", labels: { team: "platform" } } },
    {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "coredns", namespace: "kube-system", labels: { "k8s-app": "kube-dns" } },
      spec: {
        containers: [
          {
            name: "dns",
            ports: [
              { containerPort: 53, protocol: "UDP", name: "dns" },
              { containerPort: 53, name: "dns-tcp" },
            ],
          },
        ],
      },
      status: { podIP: "10.96.0.10" },
    },
  ];
  for (let n = 0; n < shape.namespaces; n++) {
    const ns = `ns-${n}`;
    objs.push({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: ns, labels: { team: `t${n % TEAMS}`, env: n % 3 === 0 ? "prod" : "dev" } },
    });
    for (let p = 0; p < shape.podsPerNamespace; p++) {
      const app = `a${p % APPS}`;
      objs.push({
        apiVersion: "v1",
        kind: "Pod",
        metadata: {
          name: `pod-${p}`,
          namespace: ns,
          labels: { app, tier: p % 2 === 0 ? "web" : "db", "pod-template-hash": `h${pick(1000)}` },
        },
        spec: {
          containers: [
            {
              name: "main",
              ports: [
                { containerPort: 8080, name: "http" },
                { containerPort: 9090, name: "metrics" },
              ],
            },
          ],
        },
        status: { podIP: `10.${1 + (n >> 8)}.${n & 255}.${p + 1}` },
      });
    }
    objs.push(...namespacePolicies(ns, n, pick));
  }
  objs.push(...adminPolicies());
  return objs;
}

function np(namespace: string, name: string, spec: Record<string, unknown>): KubeObject {
  return { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name, namespace }, spec };
}

function namespacePolicies(ns: string, n: number, pick: (n: number) => number): KubeObject[] {
  const app = (i: number) => ({ matchLabels: { app: `a${i}` } });
  const out: KubeObject[] = [
    np(ns, "default-deny-ingress", { podSelector: {}, policyTypes: ["Ingress"] }),
    np(ns, "default-deny-egress-but-dns", {
      podSelector: {},
      policyTypes: ["Egress"],
      egress: [
        {
          to: [
            {
              namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
              podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
            },
          ],
          ports: [{ port: 53, protocol: "UDP" }, { port: 53 }],
        },
      ],
    }),
  ];
  for (let i = 0; i < 6; i++) {
    const from = pick(APPS);
    out.push(
      np(ns, `allow-a${from}-to-a${i}`, {
        podSelector: app(i),
        policyTypes: ["Ingress"],
        ingress: [
          {
            from: [{ podSelector: app(from) }],
            ports: [i % 2 === 0 ? { port: "http" } : { port: 8080, endPort: 8090 }],
          },
        ],
      }),
    );
  }
  out.push(
    np(ns, "allow-team-to-a0", {
      podSelector: app(0),
      ingress: [
        {
          from: [{ namespaceSelector: { matchLabels: { team: `t${(n + 1) % TEAMS}` } } }],
          ports: [{ port: 8080 }],
        },
      ],
    }),
    np(ns, "egress-apps", {
      podSelector: { matchExpressions: [{ key: "app", operator: "In", values: ["a0", "a1", "a2"] }] },
      policyTypes: ["Egress"],
      egress: [
        {
          to: [{ ipBlock: { cidr: "10.0.0.0/8", except: [`10.1.${n & 255}.0/24`] } }],
          ports: [{ port: 443 }],
        },
        {
          to: [
            {
              namespaceSelector: { matchLabels: { env: "prod" } },
              podSelector: { matchLabels: { tier: "web" } },
            },
          ],
          ports: [{ port: "http" }],
        },
      ],
    }),
  );
  return out;
}

function adminPolicies(): KubeObject[] {
  const anp = (name: string, priority: number, spec: Record<string, unknown>): KubeObject => ({
    apiVersion: "policy.networking.k8s.io/v1alpha1",
    kind: "AdminNetworkPolicy",
    metadata: { name },
    spec: { priority, ...spec },
  });
  return [
    anp("allow-monitoring", 1, {
      subject: { namespaces: {} },
      ingress: [
        {
          action: "Allow",
          from: [{ namespaces: { matchLabels: { team: "platform" } } }],
          ports: [{ namedPort: "metrics" }],
        },
      ],
    }),
    anp("deny-prod-from-dev", 10, {
      subject: { namespaces: { matchLabels: { env: "prod" } } },
      ingress: [
        { action: "Pass", from: [{ namespaces: { matchLabels: { env: "prod" } } }] },
        { action: "Deny", from: [{ namespaces: { matchLabels: { env: "dev" } } }] },
      ],
    }),
    {
      apiVersion: "policy.networking.k8s.io/v1alpha1",
      kind: "BaselineAdminNetworkPolicy",
      metadata: { name: "default" },
      spec: {
        subject: { namespaces: {} },
        ingress: [{ action: "Deny", from: [{ namespaces: { matchLabels: { env: "dev" } } }] }],
      },
    },
  ];
}
