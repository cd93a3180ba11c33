/**
 * Audit hot path benchmark: what the gateway pays per request for request attributes, audit policy
 * evaluation, event building and the hash chain, on a realistic request mix and a 20-rule policy
 * shaped like the commonly used GKE/kube-up audit policy.
 *
 *   npx tsx bench/audit.ts [--n 200000] [--write]
 *
 * --write puts the figures into the audit section of bench/RESULTS.md.
 */
import { cpus } from "node:os";
import { performance } from "node:perf_hooks";
import {
  parseObjects,
  parseRequestInfo,
  requestAttributes,
  type RequestAttributes,
} from "../src/core/k8s/index.js";
import {
  buildEvent,
  chainNext,
  classifyImpact,
  evaluatePolicy,
  formatMicroTime,
  GENESIS,
  parsePolicy,
  verifyChain,
  type ChainHead,
  type ChainLink,
  type Event,
} from "../src/core/audit/index.js";
import { writeSection } from "./results.js";

const n = Number(process.argv[process.argv.indexOf("--n") + 1] ?? 0) || 200_000;

const POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- {level: None, users: [system:kube-proxy], verbs: [watch], resources: [{group: "", resources: [endpoints, services, services/status]}]}
- {level: None, users: [kubelet], verbs: [get], resources: [{group: "", resources: [nodes, nodes/status]}]}
- {level: None, userGroups: [system:nodes], verbs: [get], resources: [{group: "", resources: [nodes, nodes/status]}]}
- {level: None, users: [system:kube-controller-manager, system:kube-scheduler, system:serviceaccount:kube-system:endpoint-controller], verbs: [get, update], namespaces: [kube-system], resources: [{group: "", resources: [endpoints]}]}
- {level: None, users: [system:apiserver], verbs: [get], resources: [{group: "", resources: [namespaces, namespaces/status, namespaces/finalize]}]}
- {level: None, users: [cluster-autoscaler], verbs: [get, update], namespaces: [kube-system], resources: [{group: "", resources: [configmaps, endpoints]}]}
- {level: None, users: [system:kube-controller-manager], verbs: [get, list], resources: [{group: metrics.k8s.io}]}
- {level: None, nonResourceURLs: [/healthz*, /version, /swagger*]}
- {level: None, resources: [{group: "", resources: [events]}]}
- {level: Request, users: [kubelet, system:node-problem-detector, system:serviceaccount:kube-system:node-problem-detector], verbs: [update, patch], resources: [{group: "", resources: [nodes/status, pods/status]}], omitStages: [RequestReceived]}
- {level: Request, userGroups: [system:nodes], verbs: [update, patch], resources: [{group: "", resources: [nodes/status, pods/status]}], omitStages: [RequestReceived]}
- {level: Request, users: [system:serviceaccount:kube-system:namespace-controller], verbs: [deletecollection], omitStages: [RequestReceived]}
- {level: Metadata, resources: [{group: "", resources: [secrets, configmaps, serviceaccounts/token]}, {group: authentication.k8s.io, resources: [tokenreviews]}], omitStages: [RequestReceived]}
- {level: Request, verbs: [get, list, watch], resources: [{group: ""}, {group: admissionregistration.k8s.io}, {group: apiextensions.k8s.io}, {group: apiregistration.k8s.io}, {group: apps}, {group: authentication.k8s.io}, {group: authorization.k8s.io}, {group: autoscaling}, {group: batch}, {group: certificates.k8s.io}, {group: extensions}, {group: metrics.k8s.io}, {group: networking.k8s.io}, {group: node.k8s.io}, {group: policy}, {group: rbac.authorization.k8s.io}, {group: scheduling.k8s.io}, {group: storage.k8s.io}], omitStages: [RequestReceived]}
- {level: RequestResponse, resources: [{group: ""}, {group: admissionregistration.k8s.io}, {group: apiextensions.k8s.io}, {group: apps}, {group: batch}, {group: networking.k8s.io}, {group: policy}, {group: rbac.authorization.k8s.io}, {group: storage.k8s.io}], omitStages: [RequestReceived]}
- {level: Metadata, omitStages: [RequestReceived]}
`;

const REQUESTS: [string, string][] = [
  ["GET", "/api/v1/namespaces/team-a/pods?limit=500"],
  ["GET", "/api/v1/namespaces/team-a/pods/web-7d9f/log?container=app&follow=true"],
  ["GET", "/apis/apps/v1/namespaces/team-a/deployments/web"],
  ["PATCH", "/apis/apps/v1/namespaces/team-a/deployments/web"],
  ["GET", "/api/v1/namespaces/team-a/configmaps?watch=true&fieldSelector=metadata.name%3Dsettings"],
  ["POST", "/api/v1/namespaces/team-a/pods/web-7d9f/exec?command=sh&stdin=true&tty=true"],
  ["DELETE", "/api/v1/namespaces/team-a/secrets/old"],
  ["GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles"],
  ["GET", "/healthz"],
  ["GET", "/apis/example.com/v1/namespaces/team-b/widgets/w1/status"],
];
const user = { username: "alice@example.com", groups: ["team-a", "system:authenticated"] };
const [policyDoc] = parseObjects(POLICY, "policy.yaml");
if (!policyDoc) throw new Error("no policy");
const policy = parsePolicy(policyDoc);
const attrs: RequestAttributes[] = REQUESTS.map(([m, u]) => requestAttributes(parseRequestInfo(m, u), user));

function measure(
  label: string,
  iterations: number,
  f: (i: number) => void,
): { label: string; nsPerOp: number; opsPerSec: number } {
  for (let i = 0; i < Math.min(iterations, 20_000); i++) f(i); // warm up
  const t0 = performance.now();
  for (let i = 0; i < iterations; i++) f(i);
  const ms = performance.now() - t0;
  const nsPerOp = (ms * 1e6) / iterations;
  return { label, nsPerOp, opsPerSec: 1e9 / nsPerOp };
}

let sink = 0;
const stamp = formatMicroTime(Date.UTC(2026, 0, 1));
const results = [
  measure("parseRequestInfo + requestAttributes", n, (i) => {
    const [m, u] = REQUESTS[i % REQUESTS.length] as [string, string];
    sink += requestAttributes(parseRequestInfo(m, u), user).verb.length;
  }),
  measure("evaluatePolicy (16 rules)", n, (i) => {
    sink += evaluatePolicy(policy, attrs[i % attrs.length] as RequestAttributes).omitStages.length;
  }),
  measure("classifyImpact", n, (i) => {
    sink += classifyImpact(attrs[i % attrs.length] as RequestAttributes).length;
  }),
  measure("buildEvent (ResponseComplete, Metadata)", n, (i) => {
    const e = buildEvent(
      "ResponseComplete",
      { level: "Metadata", omitStages: [], omitManagedFields: false },
      {
        auditID: `id-${i}`,
        requestURI: REQUESTS[i % REQUESTS.length]?.[1] ?? "/",
        attributes: attrs[i % attrs.length] as RequestAttributes,
        sourceIPs: ["10.0.0.1"],
        userAgent: "kubectl/v1.31.0",
        requestReceivedTimestamp: stamp,
      },
      { code: 200 },
      stamp,
    );
    sink += e?.auditID.length ?? 0;
  }),
];

const events: Event[] = Array.from({ length: Math.min(n, 50_000) }, (_, i) => {
  const e = buildEvent(
    "ResponseComplete",
    { level: "Metadata", omitStages: [], omitManagedFields: false },
    {
      auditID: `id-${i}`,
      requestURI: REQUESTS[i % REQUESTS.length]?.[1] ?? "/",
      attributes: attrs[i % attrs.length] as RequestAttributes,
      sourceIPs: ["10.0.0.1"],
      userAgent: "kubectl/v1.31.0",
      requestReceivedTimestamp: stamp,
      annotations: {
        "authorization.k8s.io/decision": "allow",
        "authorization.k8s.io/reason": "RBAC: allowed",
        "gatehouse.io/cluster": "prod",
      },
    },
    { code: 200 },
    stamp,
  );
  if (!e) throw new Error("no event");
  return e;
});
const links: ChainLink[] = [];
let head: ChainHead = GENESIS;
results.push(
  measure("chainNext (JSON.stringify once + sha256 of those bytes)", events.length, (i) => {
    const l = chainNext(head, JSON.stringify(events[i] as Event));
    links.push(l);
    head = { seq: l.seq, hash: l.hash };
  }),
);
links.length = 0;
head = GENESIS;
for (const e of events) {
  const l = chainNext(head, JSON.stringify(e));
  links.push(l);
  head = { seq: l.seq, hash: l.hash };
}
const v0 = performance.now();
const verdict = verifyChain(links);
const verifyMs = performance.now() - v0;
if (!verdict.ok) throw new Error("chain did not verify");

const machine = `${cpus().length} × ${cpus()[0]?.model ?? "unknown CPU"}`;
const rows = results.map(
  (r) =>
    `| ${r.label} | ${(r.nsPerOp / 1000).toFixed(2)} µs | ${Math.round(r.opsPerSec).toLocaleString("en")} |`,
);
const md = `## Audit hot path (request attributes, policy, events, hash chain)

Command: \`npx tsx bench/audit.ts --n ${n} --write\` (machine: ${machine}; Node ${process.version}; measured ${new Date().toISOString().slice(0, 10)}).
Single-threaded; mean over ${n.toLocaleString("en")} operations on a mix of ${REQUESTS.length} realistic requests after warm-up;
the policy is 16 rules shaped like the kube-up/GKE default audit policy.

| operation | mean per op | ops/s |
|---|---|---|
${rows.join("\n")}

verifyChain over ${links.length.toLocaleString("en")} Metadata events: ${verifyMs.toFixed(0)} ms (${((verifyMs * 1000) / links.length).toFixed(2)} µs per event).`;

console.log(md);
if (sink === 42) console.log("");
if (process.argv.includes("--write")) writeSection("audit", md);
