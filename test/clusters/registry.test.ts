import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clusterKind, createClusterRegistry } from "../../src/clusters/index.js";
import { KeyRing } from "../../src/secrets/index.js";
import type { ApiObject } from "../../src/server/api/kind.js";
import { Store } from "../../src/store/index.js";

describe("the cluster registry the gateway reads", () => {
  let store: Store;
  const keyRing = KeyRing.create([{ id: "k", key: randomBytes(32) }]);
  const kind = clusterKind(keyRing);

  const put = async (name: string, token: string, labels: Record<string, string> = {}): Promise<void> => {
    const obj: ApiObject = {
      apiVersion: "gatehouse.io/v1alpha1",
      kind: "Cluster",
      metadata: { name, labels },
      spec: { server: `https://${name}.example:6443`, credentials: { token } },
    };
    expect(kind.validate(obj)).toEqual([]);
    const key = { kind: "Cluster", namespace: "", name };
    const prev = await store.objects.get(key);
    const stored = (await kind.toStored?.(obj, prev?.body as ApiObject | undefined)) as ApiObject;
    if (prev) await store.objects.update(key, stored);
    else await store.objects.create(key, randomUUID(), stored, Date.now());
  };

  beforeAll(async () => {
    store = await Store.open({
      kind: "sqlite",
      path: join(mkdtempSync(join(tmpdir(), "gatehouse-reg-")), "db"),
    });
  });
  afterAll(async () => {
    await store.close();
  });

  it("gives targets with decrypted credentials, frozen so no caller can change the shared copy", async () => {
    await put("a", "token-a", { env: "prod" });
    const t = await createClusterRegistry(store, keyRing).get("a");
    expect(t).toEqual({
      name: "a",
      labels: { env: "prod" },
      server: "https://a.example:6443",
      insecureSkipTLSVerify: false,
      token: "token-a",
    });
    expect(Object.isFrozen(t)).toBe(true);
    expect(Object.isFrozen(t?.labels)).toBe(true);
  });

  it("caches for its TTL, and invalidate() drops the cache at once and tells listeners", async () => {
    let clock = 1_000_000;
    const reg = createClusterRegistry(store, keyRing, { ttlMs: 5000, now: () => clock });
    let told = 0;
    reg.onInvalidate(() => told++);
    expect((await reg.get("a"))?.token).toBe("token-a");
    await put("a", "token-a2");
    await put("b", "token-b");
    expect((await reg.get("a"))?.token).toBe("token-a");
    expect(await reg.get("b")).toBeUndefined();
    clock += 5000;
    expect((await reg.get("a"))?.token).toBe("token-a2");
    await put("a", "token-a3");
    reg.invalidate();
    expect(told).toBe(1);
    expect((await reg.get("a"))?.token).toBe("token-a3");
    expect((await reg.list()).map((t) => t.name)).toEqual(["a", "b"]);
  });

  it("lists every registered cluster", async () => {
    for (let i = 0; i < 12; i++) await put(`many-${String(i).padStart(2, "0")}`, `t${i}`);
    const all = await createClusterRegistry(store, keyRing).list();
    expect(all.filter((t) => t.name.startsWith("many-"))).toHaveLength(12);
  });

  it("cannot open credentials with another key ring (a stolen database is useless without the keys)", async () => {
    const other = KeyRing.create([{ id: "k", key: randomBytes(32) }]);
    await expect(createClusterRegistry(store, other).get("a")).rejects.toThrow(/authentication failed/);
    expect(await createClusterRegistry(store, other).list()).toEqual([]);
  });
});
