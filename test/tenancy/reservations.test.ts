import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Store } from "../../src/store/index.js";
import { SpaceRefused, SpaceStore } from "../../src/server/tenancy/index.js";
import { freshDatabases } from "../harness/databases.js";

const dialects = await freshDatabases();
const cluster = { name: "c1", labels: { env: "dev" } };

async function addTenant(store: Store, name: string, spec: Record<string, unknown>): Promise<void> {
  await store.objects.create(
    { kind: "Tenant", namespace: "", name },
    `uid-${name}`,
    {
      apiVersion: "gatehouse.io/v1alpha1",
      kind: "Tenant",
      metadata: { name },
      spec: { owners: [{ kind: "User", name: "alice" }], clusters: { names: ["c1"] }, ...spec },
    },
    1,
  );
}

/** Start every reservation at once; count what each ended with. */
async function race(spaces: SpaceStore, tenant: string, n: number, prefix = tenant) {
  const results = await Promise.allSettled(
    Array.from({ length: n }, (_, i) =>
      spaces.reserve({ tenant, cluster: "c1", namespace: `${prefix}-${i}` }, cluster),
    ),
  );
  const refused = results.flatMap((r) => (r.status === "rejected" ? [r.reason as unknown] : []));
  return {
    ok: results.filter((r) => r.status === "fulfilled").length,
    refusals: refused.map((e) => (e instanceof SpaceRefused ? e.refusal.code : String(e))),
  };
}

describe.each(dialects)("space reservations on $name", ({ location }) => {
  let store: Store;
  let spaces: SpaceStore;
  beforeAll(async () => {
    store = await Store.open(location);
    spaces = new SpaceStore(store, () => 5000);
  });
  afterAll(async () => {
    await store.close();
  });

  it("twelve concurrent creations never exceed maxSpaces: exactly three win", async () => {
    await addTenant(store, "capped", { maxSpaces: 3 });
    const r = await race(spaces, "capped", 12);
    expect(r.ok).toBe(3);
    expect(r.refusals).toEqual(Array(9).fill("MaxSpaces"));
    expect((await spaces.spaces()).filter((s) => s.tenant === "capped")).toHaveLength(3);
  });

  it("twelve concurrent creations never exceed the per-cluster quota: exactly two win", async () => {
    await addTenant(store, "quota", {
      quota: { space: { "requests.cpu": "1500m" }, perCluster: { "requests.cpu": "3" } },
    });
    const r = await race(spaces, "quota", 12);
    expect(r.ok).toBe(2);
    expect(r.refusals).toEqual(Array(10).fill("QuotaExceeded"));
  });

  it("writes the tenant's status (spaces and usage) in the same transaction", async () => {
    const row = await store.objects.get({ kind: "Tenant", namespace: "", name: "quota" });
    const status = row?.body["status"] as { spaces: unknown[]; usage: { total: Record<string, string> } };
    expect(status.spaces).toHaveLength(2);
    expect(status.usage.total).toEqual({ spaces: "2", "requests.cpu": "3" });
  });

  it("gives a namespace to one tenant only, even when two race for it", async () => {
    await addTenant(store, "one", {});
    await addTenant(store, "two", {});
    const results = await Promise.allSettled([
      spaces.reserve({ tenant: "one", cluster: "c1", namespace: "shared" }, cluster),
      spaces.reserve({ tenant: "two", cluster: "c1", namespace: "shared" }, cluster),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const lost = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect((lost.reason as SpaceRefused).refusal.code).toBe("AlreadyExists");
  });

  it("frees the reservation on release, so the next space fits again", async () => {
    const held = (await spaces.spaces()).filter((s) => s.tenant === "capped");
    await spaces.release("c1", held[0]?.namespace ?? "");
    await spaces.release("c1", held[1]?.namespace ?? "");
    const r = await race(spaces, "capped", 4, "again");
    expect(r.ok).toBe(2);
    expect(r.refusals).toEqual(["MaxSpaces", "MaxSpaces"]);
  });
});
