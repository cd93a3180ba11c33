import { randomUUID } from "node:crypto";
import type { Kysely, Transaction } from "kysely";
import type { Store } from "../../store/index.js";
import type { Database } from "../../store/schema.js";
import { StoreError } from "../../store/index.js";
import { isUniqueViolation } from "../../store/errors.js";
import { nextVersion } from "../../store/objects.js";
import {
  checkNewSpace,
  parseTenant,
  tenantUsage,
  TENANT_LABEL,
  type Refusal,
  type Space,
  type Tenant,
} from "../../core/tenancy/index.js";
import type { ClusterFacts } from "../../core/access/index.js";

export const TENANT_KIND = "Tenant";
/** Spaces live in the objects table as kind Space, namespace = cluster name, name = namespace name. */
export const SPACE_KIND = "Space";

/** Thrown when the tenant's rules refuse a space. */
export class SpaceRefused extends Error {
  constructor(readonly refusal: Refusal) {
    super(refusal.message);
    this.name = "SpaceRefused";
  }
}

export interface StoredSpace extends Space {
  uid: string;
  createdAt: number;
}

/**
 * Tenants and spaces in the store. `reserve` is the quota gate: in one transaction it reads the
 * tenant row and every space, checks maxSpaces and the aggregate quotas (pure checkNewSpace),
 * inserts the space and rewrites the tenant's status with a conditional write on the version it
 * read. A concurrent reservation for the same tenant changes that version, so the loser's write
 * matches no row and it starts again with fresh counts: on PostgreSQL (read committed, the UPDATE
 * waits for the winner's row lock and re-checks the version) and on SQLite (transactions serialise).
 */
export class SpaceStore {
  constructor(
    private readonly store: Store,
    private readonly now: () => number,
  ) {}

  async tenant(name: string): Promise<Tenant | undefined> {
    const row = await this.store.objects.get({ kind: TENANT_KIND, namespace: "", name });
    if (!row) return undefined;
    const r = parseTenant(name, row.body["spec"]);
    return "tenant" in r ? r.tenant : undefined;
  }

  /** Every valid tenant (an invalid stored one, which the API never accepts, is skipped). */
  async tenants(): Promise<Tenant[]> {
    const out: Tenant[] = [];
    for (const row of await this.all(TENANT_KIND)) {
      const r = parseTenant(row.name, row.body["spec"]);
      if ("tenant" in r) out.push(r.tenant);
    }
    return out;
  }

  async spaces(): Promise<StoredSpace[]> {
    return (await this.all(SPACE_KIND)).map((row) => ({
      tenant: String((row.body["spec"] as Record<string, unknown> | undefined)?.["tenant"] ?? ""),
      cluster: row.namespace,
      namespace: row.name,
      uid: row.uid,
      createdAt: row.createdAt,
    }));
  }

  async space(cluster: string, namespace: string): Promise<StoredSpace | undefined> {
    const row = await this.store.objects.get({ kind: SPACE_KIND, namespace: cluster, name: namespace });
    if (!row) return undefined;
    return {
      tenant: String((row.body["spec"] as Record<string, unknown> | undefined)?.["tenant"] ?? ""),
      cluster,
      namespace,
      uid: row.uid,
      createdAt: row.createdAt,
    };
  }

  private async all(kind: string) {
    const out = [];
    let cont: string | undefined;
    do {
      const page = await this.store.objects.list(kind, { limit: 500, ...(cont ? { continue: cont } : {}) });
      out.push(...page.items);
      cont = page.continue;
    } while (cont);
    return out;
  }

  /** Check the tenant's rules and record the space, atomically (see the class comment). */
  async reserve(space: Space, cluster: ClusterFacts): Promise<StoredSpace> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const r = await this.store.db
        .transaction()
        .execute(async (tx) => {
          const { trow, body, tenant, existing } = await readGate(tx, space.tenant);
          const refusal = checkNewSpace(tenant, cluster, space, existing);
          if (refusal) throw new SpaceRefused(refusal);
          const uid = randomUUID();
          const createdAt = this.now();
          await insertSpace(tx, space, uid, createdAt);
          const all = [...existing, space];
          const status = tenantStatus(tenant, all);
          const res = await tx
            .updateTable("objects")
            .set({ body: JSON.stringify({ ...body, status }), resource_version: await nextVersion(tx) })
            .where("kind", "=", TENANT_KIND)
            .where("namespace", "=", "")
            .where("name", "=", space.tenant)
            .where("resource_version", "=", trow.resource_version)
            .executeTakeFirst();
          if (Number(res.numUpdatedRows) !== 1) throw new Retry();
          return { ...space, uid, createdAt };
        })
        .catch((e: unknown) => {
          if (e instanceof Retry) return undefined;
          throw e;
        });
      if (r) return r;
    }
    throw new StoreError("Conflict", `too many concurrent changes to tenant ${space.tenant}; try again`);
  }

  /**
   * The same checks as `reserve`, recording nothing (a dry run): throws SpaceRefused or StoreError as
   * `reserve` would. A reservation racing it may still win or lose; the answer is for now.
   */
  async check(space: Space, cluster: ClusterFacts): Promise<void> {
    const { tenant, existing } = await readGate(this.store.db, space.tenant);
    const refusal = checkNewSpace(tenant, cluster, space, existing);
    if (refusal) throw new SpaceRefused(refusal);
  }

  /** Forget a space (after its namespace was deleted, or when creating it failed) and refresh the tenant's status. */
  async release(cluster: string, namespace: string): Promise<void> {
    const gone = await this.store.objects
      .delete({ kind: SPACE_KIND, namespace: cluster, name: namespace })
      .catch((e: unknown) => {
        if (e instanceof StoreError && e.code === "NotFound") return undefined;
        throw e;
      });
    const tenant = gone ? String((gone.body["spec"] as Record<string, unknown>)["tenant"]) : undefined;
    if (tenant) await this.refreshStatus(tenant);
  }

  /** Rewrite Tenant.status from the stored spaces (also after the tenant's spec changed). */
  async refreshStatus(tenantName: string): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const row = await this.store.objects.get({ kind: TENANT_KIND, namespace: "", name: tenantName });
      if (!row) return;
      const parsed = parseTenant(tenantName, row.body["spec"]);
      if (!("tenant" in parsed)) return;
      const status = tenantStatus(parsed.tenant, await this.spaces());
      if (JSON.stringify(row.body["status"] ?? {}) === JSON.stringify(status)) return;
      try {
        await this.store.objects.update(
          { kind: TENANT_KIND, namespace: "", name: tenantName },
          { ...row.body, status },
          row.resourceVersion,
        );
        return;
      } catch (e) {
        if (!(e instanceof StoreError && e.code === "Conflict")) throw e;
      }
    }
  }
}

class Retry extends Error {}

/** What the quota gate reads: the tenant row (parsed) and every space. */
async function readGate(db: Kysely<Database>, tenantName: string) {
  const trow = await db
    .selectFrom("objects")
    .selectAll()
    .where("kind", "=", TENANT_KIND)
    .where("namespace", "=", "")
    .where("name", "=", tenantName)
    .executeTakeFirst();
  if (!trow) throw new StoreError("NotFound", `tenants.gatehouse.io "${tenantName}" not found`);
  const body = JSON.parse(trow.body) as Record<string, unknown>;
  const parsed = parseTenant(tenantName, body["spec"]);
  if (!("tenant" in parsed))
    throw new StoreError("BadRequest", `tenant ${tenantName} is invalid: ${parsed.problems.join("; ")}`);
  const rows = await db
    .selectFrom("objects")
    .select(["namespace", "name", "body"])
    .where("kind", "=", SPACE_KIND)
    .execute();
  const existing: Space[] = rows.map((x) => ({
    cluster: x.namespace,
    namespace: x.name,
    tenant: String(
      ((JSON.parse(x.body) as Record<string, unknown>)["spec"] as Record<string, unknown>)["tenant"],
    ),
  }));
  return { trow, body, tenant: parsed.tenant, existing };
}

async function insertSpace(
  tx: Transaction<Database>,
  space: Space,
  uid: string,
  createdAt: number,
): Promise<void> {
  try {
    await tx
      .insertInto("objects")
      .values({
        kind: SPACE_KIND,
        namespace: space.cluster,
        name: space.namespace,
        uid,
        resource_version: await nextVersion(tx),
        body: JSON.stringify(spaceBody(space)),
        created_at: createdAt,
      })
      .execute();
  } catch (e) {
    if (isUniqueViolation(e))
      throw new SpaceRefused({
        code: "AlreadyExists",
        message: `namespaces "${space.namespace}" already exists`,
      });
    throw e;
  }
}

function spaceBody(s: Space): Record<string, unknown> {
  return {
    apiVersion: "gatehouse.io/v1alpha1",
    kind: SPACE_KIND,
    metadata: { name: s.namespace, labels: { [TENANT_LABEL]: s.tenant } },
    spec: { tenant: s.tenant, cluster: s.cluster },
  };
}

/** Tenant.status: its spaces and what they reserve. */
export function tenantStatus(t: Tenant, spaces: readonly Space[]): Record<string, unknown> {
  return {
    spaces: spaces
      .filter((s) => s.tenant === t.name)
      .map((s) => ({ cluster: s.cluster, namespace: s.namespace }))
      .sort((a, b) => a.cluster.localeCompare(b.cluster) || a.namespace.localeCompare(b.namespace)),
    usage: tenantUsage(t, spaces),
  };
}
