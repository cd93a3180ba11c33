/**
 * NetworkPolicy simulator: a pure model of networking.k8s.io/v1 NetworkPolicy and the
 * network-policy-api admin policies (AdminNetworkPolicy, BaselineAdminNetworkPolicy,
 * ClusterNetworkPolicy). Parse objects, build a cluster, then ask about one connection
 * (evaluate), every pair (computeReachability), mistakes (lint) or tenant isolation (reachablePaths).
 */
export * from "./types.js";
export { NetpolInputError, formatIssue, type NetpolIssue, type NetpolErrorCode } from "./errors.js";
export { parseIp, parseCidr, cidrContains, type IpAddress, type CidrBlock } from "./ip.js";
export { parseModel, NAMESPACE_NAME_LABEL } from "./parse.js";
export { buildCluster, type Cluster } from "./cluster.js";
export {
  evaluate,
  type Connection,
  type Verdict,
  type DirectionVerdict,
  type PolicyRef,
  type Decider,
} from "./evaluate.js";
export { explainVerdict, explainDirection, describePolicy } from "./explain.js";
export {
  parseProbes,
  resolveProbes,
  runProbes,
  parseEndpoint,
  type Probe,
  type ProbeResult,
  type DirectionResult,
} from "./probe.js";
export { computeReachability, type Reachability } from "./matrix.js";
export { resolveNamedPort } from "./ports.js";
export { matrixView, type MatrixView, type MatrixViewOptions } from "./view.js";
export { portClasses, mergeRanges, formatRanges, type PortClass, type PortRange } from "./portspace.js";
export {
  reachablePaths,
  type ReachablePath,
  type IsolationReport,
  type IsolationOptions,
} from "./isolation.js";
export { lint, type Finding, type LintCode } from "./lint.js";
