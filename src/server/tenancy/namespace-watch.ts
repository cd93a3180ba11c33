/**
 * `kubectl get namespaces -w` for tenant owners and members (the gateway hook decided the caller may
 * only see their tenants' namespaces). Why it is built this way:
 *
 *  - The caller cannot watch namespaces on the cluster (a RoleBinding in a space grants nothing at
 *    the cluster scope), so impersonating them would be refused. The watch is opened with
 *    Gatehouse's own credential (gatehouse:controller), which could see every namespace; so it is
 *    narrowed twice: at the cluster, by the tenant label selector ANDed with the caller's own
 *    selector (a selector has no OR, so the caller can narrow but never widen), and here, where every
 *    event is parsed and judged before a byte of it is relayed (core/tenancy/watch-filter.ts):
 *    namespaces of other tenants are dropped, BOOKMARK and ERROR events are rebuilt from the few
 *    fields clients need. Tenants cannot set the tenant label (no namespace write), so it is trusted.
 *  - resourceVersion, resourceVersionMatch, sendInitialEvents, allowWatchBookmarks, timeoutSeconds,
 *    fieldSelector (metadata.name=X) go to the cluster unchanged: the versions are the cluster's own,
 *    so resuming, 410 Gone and re-listing work as kubectl and informers expect.
 *  - The events must be readable, so the cluster is asked for JSON (Table or plain, as the client
 *    asked); a client that accepts no JSON gets 406. With a Table and includeObject=None, the rows'
 *    metadata is fetched to judge them and removed before relaying.
 *  - The tenant set is fixed when the watch starts, as kube-apiserver authorizes a watch once; the
 *    cluster ends every watch within its request timeout.
 */
import type { ClusterTarget } from "../../clusters/types.js";
import { JsonObjectSplitter } from "../../core/k8s/index.js";
import { filterWatchEvent, jsonAccept, TENANT_LABEL } from "../../core/tenancy/index.js";
import type { RequestContext } from "../context.js";
import { HttpError } from "../errors.js";
import { writeJSON, writeStatus } from "../respond.js";
import { clientGone, unavailable } from "../gateway/client-status.js";
import { openStream } from "./kube.js";

const NAMESPACES = "/api/v1/namespaces";

/** The cluster-side selector: the caller's tenants, ANDed with the caller's own selector. */
export function tenantSelector(tenants: readonly string[], own: string | null): string {
  return `${TENANT_LABEL} in (${tenants.join(",")})${own ? `,${own}` : ""}`;
}

/** Stream the cluster's namespace watch, restricted to `tenants`, to the caller; resolves when it ends. */
export async function serveNamespaceWatch(
  ctx: RequestContext,
  cluster: ClusterTarget,
  params: URLSearchParams,
  tenants: readonly string[],
): Promise<void> {
  const accept = jsonAccept(ctx.req.headers["accept"]);
  if (!accept)
    throw new HttpError(
      "NotAcceptable",
      "only the following media types are accepted for a tenant's namespace watch: application/json",
    );
  const q = new URLSearchParams(params);
  q.set("labelSelector", tenantSelector(tenants, params.get("labelSelector")));
  const dropRowObjects = q.get("includeObject") === "None";
  if (dropRowObjects) q.set("includeObject", "Metadata");

  let upstream;
  try {
    upstream = await openStream(cluster, `${NAMESPACES}?${q.toString()}`, accept);
  } catch (e) {
    ctx.log.warn({ cluster: cluster.name, err: (e as Error).message }, "tenant namespace watch: no answer");
    return writeStatus(ctx.res, unavailable(cluster.name, "it did not answer the namespace watch"));
  }
  const { res: up, close } = upstream;
  // The client left while the cluster answered: its "close" is past, end the cluster's watch now.
  if (clientGone(ctx.res)) return close();
  if (up.statusCode !== 200) return relayRefusal(ctx, cluster, up.statusCode ?? 502, up);

  const mine = new Set(tenants);
  const splitter = new JsonObjectSplitter();
  ctx.res.writeHead(200, {
    "content-type": String(up.headers["content-type"] ?? "application/json"),
    "cache-control": "no-cache, private",
  });
  ctx.res.flushHeaders();
  await new Promise<void>((resolve) => {
    const stop = (why?: string): void => {
      if (why) ctx.log.warn({ cluster: cluster.name, why }, "tenant namespace watch ended");
      close();
      if (why) ctx.res.destroy();
      else if (!ctx.res.writableEnded) ctx.res.end();
      resolve();
    };
    up.on("data", (chunk: Buffer) => {
      let texts: string[];
      try {
        texts = splitter.push(chunk);
      } catch (e) {
        return stop(`unreadable stream: ${(e as Error).message}`);
      }
      for (const text of texts) {
        let event: unknown;
        try {
          event = JSON.parse(text);
        } catch {
          return stop("an event that is not JSON");
        }
        const v = filterWatchEvent(event, mine, { dropRowObjects });
        if (v.kind === "drop") {
          ctx.log.warn({ cluster: cluster.name, why: v.why }, "tenant namespace watch: event dropped");
          continue;
        }
        if (!ctx.res.write(`${JSON.stringify(v.event)}\n`) && !up.isPaused()) {
          up.pause();
          ctx.res.once("drain", () => up.resume());
        }
      }
    });
    up.on("end", () => stop(splitter.idle ? undefined : "the stream ended inside an event"));
    up.on("error", (e) => stop(`the cluster's stream failed: ${e.message}`));
    // The client went away: end the cluster's watch too.
    ctx.res.on("close", () => {
      close();
      resolve();
    });
  });
}

/**
 * The cluster refused the watch. A refusal of the caller's own query (a bad selector, an expired
 * resourceVersion) is relayed as a Status; anything else concerns Gatehouse's credential or the
 * cluster, goes to the log, and the caller learns only that the cluster is unavailable.
 */
async function relayRefusal(
  ctx: RequestContext,
  cluster: ClusterTarget,
  code: number,
  up: NodeJS.ReadableStream,
): Promise<void> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of up) {
    const b = Buffer.isBuffer(c) ? c : Buffer.from(c);
    size += b.length;
    if (size > 64 * 1024) break;
    chunks.push(b);
  }
  let status: Record<string, unknown> | undefined;
  try {
    status = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
  } catch {
    status = undefined;
  }
  if ((code === 400 || code === 410 || code === 422) && status?.["kind"] === "Status") {
    return writeJSON(ctx.res, code, {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: typeof status["message"] === "string" ? status["message"] : "",
      reason: typeof status["reason"] === "string" ? status["reason"] : "",
      code,
    });
  }
  ctx.log.warn({ cluster: cluster.name, code, status }, "tenant namespace watch refused by the cluster");
  return writeStatus(ctx.res, unavailable(cluster.name, "it refused the namespace watch"));
}
