import { HttpError } from "../errors.js";

export const GATEWAY_PREFIX = "/k8s/clusters/";

export interface GatewayTarget {
  cluster: string;
  /** The cluster's API path and query exactly as the client sent them ("/api/v1/pods?watch=1"). */
  requestURI: string;
}

const CLUSTER_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/**
 * Split "/k8s/clusters/NAME/REST?QUERY" from the raw request target. Refuses anything whose meaning
 * could differ between Gatehouse and the cluster: dot segments, encoded slashes or dots, backslashes.
 */
export function parseTarget(rawUrl: string): GatewayTarget {
  if (!rawUrl.startsWith(GATEWAY_PREFIX))
    throw new HttpError("NotFound", "the server could not find the requested resource");
  const q = rawUrl.indexOf("?");
  const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
  const query = q < 0 ? "" : rawUrl.slice(q);
  const rest = path.slice(GATEWAY_PREFIX.length);
  const slash = rest.indexOf("/");
  const cluster = slash < 0 ? rest : rest.slice(0, slash);
  const clusterPath = slash < 0 ? "/" : rest.slice(slash);
  if (!CLUSTER_NAME.test(cluster)) throw new HttpError("BadRequest", "invalid cluster name in path");
  for (const seg of clusterPath.split("/")) {
    const lower = seg.toLowerCase();
    if (
      seg === "." ||
      seg === ".." ||
      lower.includes("%2f") ||
      lower.includes("%5c") ||
      lower.includes("%2e") ||
      seg.includes("\\")
    ) {
      throw new HttpError("BadRequest", "invalid path: dot segments and encoded slashes are not allowed");
    }
  }
  return { cluster, requestURI: clusterPath + query };
}
