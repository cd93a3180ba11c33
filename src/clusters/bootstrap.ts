import { isDeepStrictEqual } from "node:util";
import { KubeApiError, type KubeClient } from "./kube-client.js";
import { IMPERSONATOR, impersonatorObjects, type ManifestObject } from "./impersonator.js";
import { requestServiceAccountToken } from "./token.js";

export interface BootstrapResult {
  token: string;
  /** NAMESPACE/NAME */
  serviceAccount: string;
  /** RFC 3339 */
  expirationTimestamp: string;
  /** What was done, one line per object: "clusterrole/gatehouse:impersonator created". */
  actions: string[];
}

type Json = Record<string, unknown>;

/**
 * Make the impersonator objects exist exactly as planned (idempotent: created when absent, the
 * roles' rules and the bindings' subjects put back when someone changed them), then ask the
 * TokenRequest API for a token of the service account. Runs with the admin's credential, on the
 * admin's machine: that credential never reaches Gatehouse.
 */
export async function bootstrapImpersonator(
  client: KubeClient,
  opts: { expirationSeconds: number },
): Promise<BootstrapResult> {
  const actions: string[] = [];
  for (const obj of impersonatorObjects()) actions.push(await ensure(client, obj));
  const { namespace, serviceAccount } = IMPERSONATOR;
  const issued = await requestServiceAccountToken(
    client,
    { namespace, name: serviceAccount },
    opts.expirationSeconds,
  );
  return {
    token: issued.token,
    serviceAccount: `${namespace}/${serviceAccount}`,
    expirationTimestamp: issued.expirationTimestamp,
    actions,
  };
}

function paths(o: ManifestObject): { collection: string; item: string; label: string } {
  const n = o.metadata.name;
  switch (o.kind) {
    case "Namespace":
      return { collection: "/api/v1/namespaces", item: `/api/v1/namespaces/${n}`, label: `namespace/${n}` };
    case "ServiceAccount": {
      const c = `/api/v1/namespaces/${o.metadata.namespace ?? ""}/serviceaccounts`;
      return { collection: c, item: `${c}/${n}`, label: `serviceaccount/${n}` };
    }
    case "ClusterRole": {
      const c = "/apis/rbac.authorization.k8s.io/v1/clusterroles";
      return { collection: c, item: `${c}/${n}`, label: `clusterrole/${n}` };
    }
    case "ClusterRoleBinding": {
      const c = "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings";
      return { collection: c, item: `${c}/${n}`, label: `clusterrolebinding/${n}` };
    }
    case "Role":
    case "RoleBinding": {
      const plural = o.kind === "Role" ? "roles" : "rolebindings";
      const c = `/apis/rbac.authorization.k8s.io/v1/namespaces/${o.metadata.namespace ?? ""}/${plural}`;
      return { collection: c, item: `${c}/${n}`, label: `${o.kind.toLowerCase()}/${n}` };
    }
    default:
      throw new Error(`no path for kind ${o.kind}`);
  }
}

async function ensure(client: KubeClient, want: ManifestObject): Promise<string> {
  const p = paths(want);
  const current = await getIfExists(client, p.item);
  if (!current) {
    try {
      await client.postJSON(p.collection, want);
      return `${p.label} created`;
    } catch (e) {
      // Created by someone else in the meantime: check it like an existing one.
      if (!(e instanceof KubeApiError && e.httpCode === 409)) throw e;
    }
    return ensure(client, want);
  }
  if (want.kind === "Namespace" && (current["status"] as Json | undefined)?.["phase"] === "Terminating")
    throw new KubeApiError(
      "http",
      `namespace ${want.metadata.name} is being deleted; wait until it is gone and run again`,
      409,
    );
  const isRole = want.kind === "ClusterRole" || want.kind === "Role";
  const isBinding = want.kind === "ClusterRoleBinding" || want.kind === "RoleBinding";
  const fields = isRole ? ["rules"] : isBinding ? ["subjects"] : [];
  if (isBinding && !isDeepStrictEqual(current["roleRef"], want["roleRef"]))
    throw new KubeApiError(
      "http",
      `${p.label} exists with another roleRef, which cannot be changed; delete it and run again`,
      409,
    );
  const differs =
    fields.some((f) => !isDeepStrictEqual(normalise(current[f]), normalise(want[f]))) ||
    (want.kind === "ClusterRole" && current["aggregationRule"] !== undefined);
  if (!differs) return `${p.label} unchanged`;
  const meta = current["metadata"] as Json;
  const { aggregationRule: _a, ...rest } = current;
  const replacement: Json = { ...rest, metadata: meta };
  for (const f of fields) replacement[f] = want[f];
  await client.requestJSON("PUT", p.item, replacement);
  return `${p.label} configured`;
}

async function getIfExists(client: KubeClient, path: string): Promise<Json | undefined> {
  try {
    return await client.getJSON<Json>(path);
  } catch (e) {
    if (e instanceof KubeApiError && e.httpCode === 404) return undefined;
    throw e;
  }
}

/** The API server fills defaults (e.g. apiGroup "" on subjects); compare with those dropped. */
function normalise(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normalise);
  if (typeof v === "object" && v !== null)
    return Object.fromEntries(
      Object.entries(v)
        .filter(([, x]) => x !== "" && x !== undefined && !(Array.isArray(x) && x.length === 0))
        .map(([k, x]) => [k, normalise(x)]),
    );
  return v;
}
