import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Store, type AuditAppend } from "../../src/store/index.js";
import { verifyStoredChain } from "../../src/audit/index.js";
import { freshDatabases } from "../harness/databases.js";
import { alice, bob, gatewayEvent } from "./events.js";

const dialects = await freshDatabases();
const T0 = Date.parse("2026-01-01T00:00:00Z");

function sample(n: number): AuditAppend[] {
  const out: AuditAppend[] = [];
  for (let i = 0; i < n; i++) {
    const user = i % 2 === 0 ? alice : bob;
    const cluster = i % 3 === 0 ? "c1" : "c2";
    out.push({
      source: "gateway",
      cluster,
      event: gatewayEvent({
        auditID: `id-${i}`,
        method: i % 5 === 0 ? "DELETE" : "GET",
        uri: `/api/v1/namespaces/ns${i % 4}/pods/p${i}`,
        user,
        ...(i % 7 === 0 ? { impersonated: { username: "viewer", groups: ["readers"] } } : {}),
        cluster,
        code: i % 10 === 0 ? 403 : 200,
        decision: i % 10 === 0 ? "forbid" : "allow",
        at: T0 + i * 1000,
      }),
    });
  }
  return out;
}

describe.each(dialects)("stored audit events on $name", ({ location }) => {
  let store: Store;
  beforeAll(async () => {
    store = await Store.open(location);
    await store.audit.append(sample(60).slice(0, 25));
    await store.audit.append(sample(60).slice(25));
  });
  afterAll(async () => {
    await store.close();
  });

  it("chains batches into one chain that verifies, with the head at the last event", async () => {
    const v = await verifyStoredChain(store.audit);
    expect(v).toMatchObject({ ok: true, count: 60, head: { seq: 59 } });
    expect((await store.audit.head()).seq).toBe(59);
  });

  it("finds a user's events whether they acted themselves or were impersonated", async () => {
    const all = await store.audit.query({ user: "alice" }, { limit: 1000 });
    expect(all.items.length).toBe(30);
    expect(all.items.every((i) => i.event.user.username === "alice")).toBe(true);
    const viewer = await store.audit.query({ user: "viewer" }, { limit: 1000 });
    expect(viewer.items.map((i) => i.event.auditID)).toEqual([
      "id-0",
      "id-7",
      "id-14",
      "id-21",
      "id-28",
      "id-35",
      "id-42",
      "id-49",
      "id-56",
    ]);
  });

  it("filters by cluster, group, verb, namespace, name, code, decision, impact, auditID and time", async () => {
    const ids = async (f: Parameters<Store["audit"]["query"]>[0]) =>
      (await store.audit.query(f, { limit: 1000 })).items.map((i) => i.event.auditID);
    expect(await ids({ cluster: "c1", since: T0 + 10_000, until: T0 + 20_000 })).toEqual([
      "id-12",
      "id-15",
      "id-18",
    ]);
    expect((await ids({ group: "ops" })).length).toBe(30);
    expect((await ids({ group: "op" })).length).toBe(0);
    expect(await ids({ verb: "delete", namespace: "ns0" })).toEqual(["id-0", "id-20", "id-40"]);
    expect(await ids({ name: "p33", resource: "pods" })).toEqual(["id-33"]);
    expect(await ids({ code: 403, decision: "forbid" })).toEqual([
      "id-0",
      "id-10",
      "id-20",
      "id-30",
      "id-40",
      "id-50",
    ]);
    expect((await ids({ impact: "delete" })).length).toBe(12);
    expect(await ids({ auditID: "id-9" })).toEqual(["id-9"]);
  });

  it("pages through large results with continue tokens, in time order, without gaps or repeats", async () => {
    const seen: string[] = [];
    let cont: string | undefined;
    do {
      const page = await store.audit.query({}, { limit: 7, ...(cont ? { continue: cont } : {}) });
      expect(page.items.length).toBeLessThanOrEqual(7);
      seen.push(...page.items.map((i) => i.event.auditID));
      cont = page.continue;
    } while (cont);
    expect(seen).toEqual(Array.from({ length: 60 }, (_, i) => `id-${i}`));
  });

  it("refuses a continue token it did not make", async () => {
    await expect(store.audit.query({}, { limit: 5, continue: "not-a-token" })).rejects.toMatchObject({
      code: "BadRequest",
    });
  });

  it("stores each event's text exactly as serialised, whatever characters its strings hold", async () => {
    const odd = 'q"uote \\back\\slash\nnew\tline \u2028sep größe 🚀 \u0001';
    const e = gatewayEvent({
      auditID: "odd-1",
      uri: `/api/v1/namespaces/ns/configmaps/${encodeURIComponent("x")}`,
      user: { username: odd, groups: [odd] },
      at: T0 + 999_000,
    });
    e.annotations = { ...e.annotations, note: odd };
    const head = await store.audit.head();
    const { committed } = await store.audit.appendCommitted([
      { source: "gateway", cluster: "c1", event: e },
      ...sample(2),
    ]);
    const links = await store.audit.after({}, head.seq, 10);
    expect(links.map((l) => l.json)).toEqual(committed.map((c) => c.json));
    expect(links[0]?.json).toBe(JSON.stringify(e));
    expect(links[0]?.event.user.username).toBe(odd);
    expect((await verifyStoredChain(store.audit)).ok).toBe(true);
    // Leave the shared fixture as the other tests expect it.
    await store.db.deleteFrom("audit_events").where("seq", ">", head.seq).execute();
  });

  it("returns events appended after a chain position, for tail", async () => {
    const after = await store.audit.after({ user: "bob" }, 54, 100);
    expect(after.map((l) => l.seq)).toEqual([55, 57, 59]);
  });
});

describe.each(dialects)("tamper evidence on $name", ({ location }) => {
  let store: Store;
  beforeAll(async () => {
    store = await Store.open({
      ...location,
      ...(location.kind === "sqlite" ? { path: location.path + ".t" } : {}),
    });
  });
  afterAll(async () => {
    await store.close();
  });

  const reset = async () => {
    await store.db.deleteFrom("audit_events").execute();
    await store.db.deleteFrom("settings").where("key", "=", "audit.chain.anchor").execute();
    await store.audit.append(sample(20));
  };

  it("reports an event altered in place as altered, at its position", async () => {
    await reset();
    const row = await store.db
      .selectFrom("audit_events")
      .select(["id", "event"])
      .where("seq", "=", 7)
      .executeTakeFirstOrThrow();
    const changed = row.event.replace('"alice"', '"mallory"').replace('"bob"', '"mallory"');
    await store.db.updateTable("audit_events").set({ event: changed }).where("id", "=", row.id).execute();
    expect(await verifyStoredChain(store.audit)).toMatchObject({
      ok: false,
      problem: "altered",
      seq: 7,
      position: 7,
    });
  });

  it("reports a removed event as removed", async () => {
    await reset();
    await store.db.deleteFrom("audit_events").where("seq", "=", 12).execute();
    expect(await verifyStoredChain(store.audit)).toMatchObject({ ok: false, problem: "removed", seq: 13 });
  });

  it("reports events moved out of storage order as reordered", async () => {
    await reset();
    const rows = await store.db
      .selectFrom("audit_events")
      .selectAll()
      .where("seq", "in", [4, 5])
      .orderBy("seq")
      .execute();
    await store.db.deleteFrom("audit_events").where("seq", "in", [4, 5]).execute();
    for (const r of rows.reverse()) {
      const { id: _id, ...rest } = r;
      await store.db.insertInto("audit_events").values(rest).execute();
    }
    expect(await verifyStoredChain(store.audit)).toMatchObject({ ok: false, problem: "reordered" });
  });

  it("reports events removed from the end only against a trusted head", async () => {
    await reset();
    const head = await store.audit.head();
    await store.db.deleteFrom("audit_events").where("seq", ">=", 18).execute();
    expect((await verifyStoredChain(store.audit)).ok).toBe(true);
    expect(await verifyStoredChain(store.audit, head)).toMatchObject({ ok: false, problem: "removed" });
  });

  it("reports a consistently rewritten chain against the trusted head", async () => {
    await reset();
    const head = await store.audit.head();
    await store.db.deleteFrom("audit_events").where("seq", ">=", 15).execute();
    await store.audit.append(sample(5));
    expect(await verifyStoredChain(store.audit, head)).toMatchObject({
      ok: false,
      problem: "altered",
      seq: 19,
    });
  });

  it("keeps the chain verifiable after retention deletes the oldest events by count and by age", async () => {
    await reset();
    expect(await store.audit.trim({ keep: 15, limit: 3 })).toBe(3);
    expect(await store.audit.trim({ keep: 15, limit: 100 })).toBe(2);
    expect(await store.audit.count()).toBe(15);
    expect(await verifyStoredChain(store.audit)).toMatchObject({ ok: true, count: 15, head: { seq: 19 } });
    expect(await store.audit.trim({ before: T0 + 10_000, limit: 100 })).toBe(5);
    expect(await verifyStoredChain(store.audit)).toMatchObject({ ok: true, count: 10 });
    // Appending after retention continues the same chain.
    await store.audit.append(sample(2));
    expect(await verifyStoredChain(store.audit)).toMatchObject({ ok: true, count: 12, head: { seq: 21 } });
    // Deleting the anchor's successor is still caught.
    await store.db.deleteFrom("audit_events").where("seq", "=", 10).execute();
    expect(await verifyStoredChain(store.audit)).toMatchObject({ ok: false, problem: "removed" });
  });
});
