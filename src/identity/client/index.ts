/** The client side of `gatehouse login`: token cache, refresh, kubeconfig merge. Used by the CLI only. */
export {
  cacheDir,
  deleteCache,
  listCache,
  normaliseServer,
  readCache,
  CacheError,
  type CachedLogin,
} from "./cache.js";
export { TransportError, type Endpoint } from "./http.js";
export {
  kubeconfigPath,
  kubeconfigUserName,
  mergeLogin,
  readKubeconfig,
  writeKubeconfig,
  type LoginKubeconfig,
} from "./kubeconfig.js";
export {
  deviceLogin,
  endpointOf,
  freshLogin,
  LoginError,
  myClusters,
  passwordLogin,
  serverLogout,
  TotpRequiredError,
} from "./session.js";
export { browserLogin } from "./browser.js";
