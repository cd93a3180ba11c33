import type { ServerResponse } from "node:http";
import { failure } from "../../core/k8s/index.js";

/**
 * Whether the client has already gone (its HTTP/2 stream was reset, or its connection closed) before
 * we sent anything: no reason to reach the cluster for it. A rapid-reset flood's streams end here.
 */
export function clientGone(res: ServerResponse): boolean {
  const stream = (res as unknown as { stream?: { destroyed: boolean; closed: boolean } }).stream;
  if (stream !== undefined) return stream.destroyed || stream.closed;
  return res.destroyed || res.socket?.destroyed === true;
}

/** The Status for a cluster that did not answer, naming it (and nothing internal). */
export function unavailable(cluster: string, why: string) {
  return failure("ServiceUnavailable", `cluster ${JSON.stringify(cluster)} is unavailable: ${why}`);
}
