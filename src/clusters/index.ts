export {
  CLUSTER_KIND,
  type ClusterRegistry,
  type ClusterStatus,
  type ClusterTarget,
  type CredentialsInput,
  type ImpersonatorStatus,
} from "./types.js";
export { clusterKind } from "./kind.js";
export { clusterSealedKind, credentialsAad } from "./credentials.js";
export {
  ClusterCredentialsError,
  createClusterRegistry,
  type ObservableClusterRegistry,
} from "./registry.js";
export { checkCluster, startHealthChecks, type HealthCheckOptions, type HealthResult } from "./health.js";
export {
  IMPERSONATOR,
  impersonatorManifest,
  impersonatorObjects,
  impersonatorRules,
  tokenRenewerRules,
} from "./impersonator.js";
export {
  createTokenRenewer,
  type RenewalOutcome,
  type TokenRenewer,
  type TokenRenewerOptions,
} from "./renewal.js";
export { renewalDueAt, unverifiedTokenTimes, type TokenTimes } from "./token.js";
export { bootstrapImpersonator, type BootstrapResult } from "./bootstrap.js";
export { clusterObject, credentialsFromConnection } from "./object.js";
export { applyLabelChanges, parseLabelArgs, validateLabels, type LabelChanges } from "./labels.js";
export {
  KubeconfigError,
  defaultKubeconfigPath,
  loadKubeconfig,
  resolveContext,
  type ClusterConnection,
} from "./kubeconfig.js";
export { KubeApiError, KubeClient, type KubeClientOptions } from "./kube-client.js";
export { controllerClient } from "./controller-client.js";
