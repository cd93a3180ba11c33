import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { failure, type Status } from "../../core/k8s/index.js";
import {
  checkSpaceName,
  collectionPath,
  derivedAccess,
  inSync,
  spaceNamespaceLabels,
  spaceObjects,
  DERIVED_LABEL,
  MANAGED_LABEL,
  MANAGED_VALUE,
  TEMPLATE_KINDS,
  type DeleteOptions,
  type Space,
  type SpaceObject,
  type Tenant,
} from "../../core/tenancy/index.js";
import { KubeApiError, type KubeClient } from "../../clusters/kube-client.js";
import type { ClusterRegistry } from "../../clusters/types.js";
import type { Store } from "../../store/index.js";
import { StoreError } from "../../store/index.js";
import { sameJson } from "../../core/tenancy/plan.js";
import { HttpError } from "../errors.js";
import { gatehouseClient } from "./kube.js";
import { SpaceRefused, SpaceStore } from "./space-store.js";

export interface TenancyDeps {
  store: Store;
  clusters: ClusterRegistry;
  log: Logger;
  now: () => number;
  /** Told after the derived AccessBindings changed: drop authorization caches, sync cluster RBAC. */
  onAccessChange: () => void;
}

type Json = Record<string, unknown>;

/** A space to create: its tenant, cluster and namespace name, and the caller's own namespace labels. */
export interface SpaceRequest {
  tenant: string;
  cluster: string;
  namespace: string;
  labels?: Record<string, string>;
}

/** A refusal as kube-apiserver words it for a namespace. */
function namespaceStatus(
  reason: "Invalid" | "Forbidden" | "AlreadyExists" | "NotFound",
  name: string,
  why: string,
): Status {
  switch (reason) {
    case "Invalid":
      return failure(
        "Invalid",
        `Namespace ${JSON.stringify(name)} is invalid: metadata.name: Invalid value: ${JSON.stringify(name)}: ${why}`,
        {
          name,
          kind: "Namespace",
          causes: [
            {
              reason: "FieldValueInvalid",
              message: `Invalid value: ${JSON.stringify(name)}: ${why}`,
              field: "metadata.name",
            },
          ],
        },
      );
    case "Forbidden":
      return failure("Forbidden", `namespaces ${JSON.stringify(name)} is forbidden: ${why}`, {
        name,
        kind: "namespaces",
      });
    case "AlreadyExists":
      return failure("AlreadyExists", `namespaces ${JSON.stringify(name)} already exists`, {
        name,
        kind: "namespaces",
      });
    case "NotFound":
      return failure("NotFound", why, { name, kind: "namespaces" });
  }
}

/**
 * Spaces: create (check, reserve, create the namespace and its objects with Gatehouse's credential),
 * delete, and keep (the reconciler calls reconcileSpace and syncAccess).
 */
export class TenancyService {
  readonly spaces: SpaceStore;

  constructor(private readonly deps: TenancyDeps) {
    this.spaces = new SpaceStore(deps.store, deps.now);
  }

  /** The checks before a space is recorded: the cluster, the tenant and the name; and the Namespace to create. */
  private async prepare(req: SpaceRequest) {
    const target = await this.deps.clusters.get(req.cluster);
    if (!target)
      throw new HttpError("NotFound", `clusters.gatehouse.io ${JSON.stringify(req.cluster)} not found`);
    const tenant = await this.spaces.tenant(req.tenant);
    if (!tenant)
      throw new HttpError("NotFound", `tenants.gatehouse.io ${JSON.stringify(req.tenant)} not found`);
    const bad = checkSpaceName(tenant, req.namespace);
    if (bad) throw HttpError.of(namespaceStatus("Invalid", req.namespace, bad));
    const space: Space = { tenant: tenant.name, cluster: target.name, namespace: req.namespace };
    const namespace = {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: {
        name: req.namespace,
        labels: { ...(req.labels ?? {}), ...spaceNamespaceLabels(tenant) },
      },
    };
    return { target, tenant, space, namespace };
  }

  /**
   * Create a space. Refusals are HttpErrors carrying kube-apiserver's Status for a namespace
   * (422 name, 403 cluster/maxSpaces/quota, 409 exists). Returns the Namespace the cluster created.
   * With `dryRun`, every check runs (the store's quota gate without recording, then the cluster's own
   * create with dryRun=All) and nothing is kept anywhere; the answer is the Namespace as it would be.
   */
  async createSpace(req: SpaceRequest, opts: { dryRun?: boolean } = {}): Promise<Json> {
    const { target, tenant, space, namespace } = await this.prepare(req);
    const refused = (e: unknown): never => {
      if (e instanceof SpaceRefused)
        throw HttpError.of(
          namespaceStatus(
            e.refusal.code === "AlreadyExists" ? "AlreadyExists" : "Forbidden",
            req.namespace,
            e.refusal.message,
          ),
        );
      throw e;
    };
    if (opts.dryRun) {
      await this.spaces.check(space, { name: target.name, labels: target.labels }).catch(refused);
      const client = gatehouseClient(target);
      try {
        return await client.postJSON<Json>("/api/v1/namespaces?dryRun=All", namespace);
      } catch (e) {
        if (e instanceof KubeApiError && e.status) throw HttpError.of(e.status);
        throw e;
      } finally {
        client.close();
      }
    }
    await this.spaces.reserve(space, { name: target.name, labels: target.labels }).catch(refused);
    const client = gatehouseClient(target);
    try {
      let ns: Json;
      try {
        ns = await client.postJSON<Json>("/api/v1/namespaces", namespace);
      } catch (e) {
        await this.spaces.release(target.name, req.namespace);
        if (e instanceof KubeApiError && e.status) throw HttpError.of(e.status);
        throw e;
      }
      this.deps.log.info(
        { tenant: tenant.name, cluster: target.name, namespace: req.namespace },
        "space created",
      );
      // Objects and access follow; a failure here is repaired by the reconciler, the space exists.
      try {
        await this.applyObjects(client, tenant, space);
        await this.syncAccess();
      } catch (e) {
        this.deps.log.warn(
          { err: (e as Error).message, namespace: req.namespace },
          "space objects not complete yet",
        );
      }
      return ns;
    } finally {
      client.close();
    }
  }

  /**
   * Delete a space: the namespace (Kubernetes removes everything in it), then the record. Returns the
   * cluster's answer. `options` (DeleteOptions) go to the cluster as they came; if the cluster refuses
   * (a failed precondition), the space stays. With dryRun ["All"], the cluster's dry run answers and
   * the space stays too.
   */
  async deleteSpace(cluster: string, namespace: string, options?: DeleteOptions): Promise<Json> {
    const target = await this.deps.clusters.get(cluster);
    if (!target)
      throw new HttpError("NotFound", `clusters.gatehouse.io ${JSON.stringify(cluster)} not found`);
    const space = await this.spaces.space(cluster, namespace);
    if (!space)
      throw HttpError.of(
        namespaceStatus(
          "NotFound",
          namespace,
          `spaces.gatehouse.io ${JSON.stringify(namespace)} not found on cluster ${cluster}`,
        ),
      );
    const dryRun = options?.dryRun !== undefined && options.dryRun.length > 0;
    const client = gatehouseClient(target);
    let answer: Json;
    try {
      answer = await client.requestJSON<Json>(
        "DELETE",
        `/api/v1/namespaces/${encodeURIComponent(namespace)}`,
        options,
      );
    } catch (e) {
      if (dryRun || !(e instanceof KubeApiError && e.httpCode === 404)) {
        if (e instanceof KubeApiError && e.status) throw HttpError.of(e.status);
        throw e;
      }
      answer = {
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Success",
        details: { name: namespace, kind: "namespaces" },
      };
    } finally {
      client.close();
    }
    if (dryRun) return answer;
    await this.spaces.release(cluster, namespace);
    await this.syncAccess();
    this.deps.log.info({ tenant: space.tenant, cluster, namespace }, "space deleted");
    return answer;
  }

  /**
   * Make the namespace and the space's objects what the tenant says: create what is missing, put
   * back what was changed, delete what Gatehouse made and no longer wants. Returns what it did.
   */
  async reconcileSpace(client: KubeClient, tenant: Tenant, space: Space): Promise<string[]> {
    const done: string[] = [];
    const nsPath = `/api/v1/namespaces/${encodeURIComponent(space.namespace)}`;
    const wantLabels = spaceNamespaceLabels(tenant);
    let ns: Json | undefined;
    try {
      ns = await client.getJSON<Json>(nsPath);
    } catch (e) {
      if (!(e instanceof KubeApiError && e.httpCode === 404)) throw e;
    }
    if (!ns) {
      await client.postJSON("/api/v1/namespaces", {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: space.namespace, labels: wantLabels },
      });
      done.push(`created Namespace ${space.namespace}`);
    } else {
      const meta = (ns["metadata"] ?? {}) as { labels?: Record<string, string> };
      if ((ns["status"] as Json | undefined)?.["phase"] === "Terminating") return done;
      if (Object.entries(wantLabels).some(([k, v]) => meta.labels?.[k] !== v)) {
        await client.requestJSON("PUT", nsPath, {
          ...ns,
          metadata: { ...(ns["metadata"] as Json), labels: { ...(meta.labels ?? {}), ...wantLabels } },
        });
        done.push(`restored labels of Namespace ${space.namespace}`);
      }
    }
    done.push(...(await this.applyObjects(client, tenant, space)));
    return done;
  }

  private async applyObjects(client: KubeClient, tenant: Tenant, space: Space): Promise<string[]> {
    const done: string[] = [];
    const desired = spaceObjects(tenant, space);
    for (const d of desired) {
      const item = `${collectionPath(d, space.namespace)}/${encodeURIComponent(d.metadata.name)}`;
      let actual: Json | undefined;
      try {
        actual = await client.getJSON<Json>(item);
      } catch (e) {
        if (!(e instanceof KubeApiError && e.httpCode === 404)) throw e;
      }
      if (!actual) {
        await client.postJSON(collectionPath(d, space.namespace), d);
        done.push(`created ${d.kind} ${space.namespace}/${d.metadata.name}`);
      } else if (!inSync(d, actual)) {
        const meta = actual["metadata"] as Json;
        await client.requestJSON("PUT", item, withVersion(d, meta));
        done.push(`restored ${d.kind} ${space.namespace}/${d.metadata.name}`);
      }
    }
    // What Gatehouse made here before and no longer wants (a template changed).
    const wanted = new Set(desired.map((d) => `${d.kind}/${d.metadata.name}`));
    // Every kind a template may hold: a kind removed from the templates must still be cleaned up.
    const kinds = Object.keys(TEMPLATE_KINDS);
    for (const kind of kinds) {
      const k = TEMPLATE_KINDS[kind];
      if (!k) continue;
      const list = await client.list<Json>(
        `${collectionPath({ apiVersion: k.apiVersion, kind }, space.namespace)}?labelSelector=${encodeURIComponent(`${MANAGED_LABEL}=${MANAGED_VALUE}`)}`,
      );
      for (const o of list.items) {
        const name = String((o["metadata"] as Json)["name"]);
        if (wanted.has(`${kind}/${name}`)) continue;
        await client.requestJSON(
          "DELETE",
          `${collectionPath({ apiVersion: k.apiVersion, kind }, space.namespace)}/${encodeURIComponent(name)}`,
        );
        done.push(`deleted ${kind} ${space.namespace}/${name}`);
      }
    }
    return done;
  }

  /**
   * Keep the AccessBindings (and the discovery AccessRole) derived from tenants and spaces equal to
   * what derivedAccess says. Only objects labelled gatehouse.io/tenancy are touched.
   */
  async syncAccess(): Promise<number> {
    const tenants = await this.spaces.tenants();
    const spaces = await this.spaces.spaces();
    const desired = derivedAccess(tenants, spaces);
    let changes = 0;
    for (const kind of ["AccessRole", "AccessBinding"] as const) {
      const want = new Map(desired.filter((d) => d.kind === kind).map((d) => [d.name, d.body]));
      const have = new Map<string, { body: Json; version: number }>();
      let cont: string | undefined;
      do {
        const page = await this.deps.store.objects.list(kind, {
          limit: 500,
          ...(cont ? { continue: cont } : {}),
        });
        for (const o of page.items) have.set(o.name, { body: o.body, version: o.resourceVersion });
        cont = page.continue;
      } while (cont);
      const ours = (b: Json): boolean =>
        ((b["metadata"] as Json | undefined)?.["labels"] as Json | undefined)?.[DERIVED_LABEL] === "true";
      for (const [name, body] of want) {
        const cur = have.get(name);
        const key = { kind, namespace: "", name };
        if (!cur) {
          await this.deps.store.objects
            .create(key, randomUUID(), body, this.deps.now())
            .catch((e: unknown) => {
              if (!(e instanceof StoreError && e.code === "AlreadyExists")) throw e;
            });
          changes++;
        } else if (!ours(cur.body)) {
          this.deps.log.warn(
            { kind, name },
            "a tenancy access object's name is taken by an object Gatehouse does not manage",
          );
        } else if (!sameJson(cur.body["spec"], body["spec"])) {
          await this.deps.store.objects.update(key, body, cur.version);
          changes++;
        }
      }
      for (const [name, cur] of have)
        if (ours(cur.body) && !want.has(name)) {
          await this.deps.store.objects.delete({ kind, namespace: "", name }).catch(() => undefined);
          changes++;
        }
    }
    if (changes > 0) this.deps.onAccessChange();
    return changes;
  }
}

function withVersion(d: SpaceObject, actualMeta: Json): SpaceObject {
  return {
    ...d,
    metadata: {
      ...d.metadata,
      labels: {
        ...((actualMeta["labels"] as Record<string, string> | undefined) ?? {}),
        ...d.metadata.labels,
      },
      ...(typeof actualMeta["resourceVersion"] === "string"
        ? { resourceVersion: actualMeta["resourceVersion"] }
        : {}),
    },
  };
}
