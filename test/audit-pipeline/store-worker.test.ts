/**
 * The SQLite audit writer thread (src/store/audit-worker.ts): batches committed on its own
 * connection, a chain head moved by another connection detected and re-hashed, a thread that dies
 * mid-batch costing neither an event nor a duplicate, and closing (or not closing) the store never
 * leaving the process hanging.
 */
import { afterEach, describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn, spawnSync } from "node:child_process";
import { pino } from "pino";
import { Registry } from "prom-client";
import { Store, type AuditAppend } from "../../src/store/index.js";
import {
  AuditWriter,
  AuditUnavailableError,
  createAuditMetrics,
  verifyStoredChain,
} from "../../src/audit/index.js";
import {
  ConfigError,
  parseConfigFile,
  resolveConfig,
  settingsFromEnv,
  type RawSettings,
} from "../../src/config/index.js";
import { startGatehouse } from "../../src/server/app.js";
import { alice, bob, gatewayEvent } from "./events.js";

const T0 = Date.parse("2026-01-01T00:00:00Z");
const silent = pino({ level: "silent" });

function sample(n: number, from = 0): AuditAppend[] {
  return Array.from({ length: n }, (_, k) => ({
    source: "gateway" as const,
    cluster: "c1",
    event: gatewayEvent({
      auditID: `w-${from + k}`,
      uri: `/api/v1/namespaces/ns/configmaps/cm-${from + k}`,
      user: (from + k) % 2 ? alice : bob,
      at: T0 + (from + k) * 1000,
    }),
  }));
}

const dbPath = (): string => join(mkdtempSync(join(tmpdir(), "gh-audit-worker-")), "gatehouse.db");
const auditIDs = async (s: Store): Promise<string[]> =>
  (await s.db.selectFrom("audit_events").select("audit_id").orderBy("seq").execute()).map((r) => r.audit_id);

const open: Store[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});
async function store(path: string, auditWorker: boolean): Promise<Store> {
  const s = await Store.open({ kind: "sqlite", path }, { auditWorker });
  open.push(s);
  return s;
}

/** A durable writer over the store that retries failed batches quickly (the thread is killed on purpose). */
function retryingWriter(s: Store, maxBatch: number, retryMs: { first: number; max: number }): AuditWriter {
  return new AuditWriter(s.audit, {
    maxQueue: 10_000,
    maxBatch,
    log: silent,
    metrics: createAuditMetrics(new Registry()),
    retryMs,
  });
}

describe("the SQLite audit writer thread", () => {
  it("is used by default unless turned off, and stores what the in-thread path stores", async () => {
    const threaded = await store(dbPath(), true);
    const inThread = await store(dbPath(), false);
    expect(threaded.audit.threaded).toBe(true);
    expect(inThread.audit.threaded).toBe(false);
    const byDefault = await Store.open({ kind: "sqlite", path: dbPath() });
    open.push(byDefault);
    expect(byDefault.audit.threaded).toBe(true);
    const a = await threaded.audit.appendCommitted(sample(130), sample(7, 130));
    const b = await inThread.audit.appendCommitted(sample(130));
    expect(a.head).toEqual(b.head);
    expect(a.committed.map((c) => c.json)).toEqual(b.committed.map((c) => c.json));
    const rows = async (s: Store) => s.db.selectFrom("audit_events").selectAll().orderBy("seq").execute();
    expect((await rows(threaded)).map(({ id: _, ...r }) => r)).toEqual(
      (await rows(inThread)).map(({ id: _, ...r }) => r),
    );
    // The batch hashed ahead (`next`) is stored as the next batch, after the first.
    await threaded.audit.append(sample(7, 130));
    await inThread.audit.append(sample(7, 130));
    expect(await threaded.audit.head()).toEqual(await inThread.audit.head());
    expect(await threaded.audit.storedBytes()).toBe(await inThread.audit.storedBytes());
    expect(await verifyStoredChain(threaded.audit)).toMatchObject({ ok: true, count: 137 });
  });

  it("re-hashes a batch from the real head when another connection appended since", async () => {
    const path = dbPath();
    const threaded = await store(path, true);
    const other = await store(path, false);
    await threaded.audit.append(sample(3));
    // Another connection to the same file moves the head under the thread's feet.
    await other.audit.append(sample(2, 3));
    await threaded.audit.append(sample(4, 5));
    await other.audit.append(sample(1, 9));
    const head = await threaded.audit.append(sample(2, 10));
    expect(head.seq).toBe(11);
    expect(await auditIDs(threaded)).toEqual(Array.from({ length: 12 }, (_, i) => `w-${i}`));
    expect(await verifyStoredChain(threaded.audit)).toMatchObject({ ok: true, count: 12, head });
    expect(await threaded.audit.storedBytes()).toBe(
      (await threaded.db.selectFrom("audit_events").select("event").execute()).reduce(
        (a, r) => a + Buffer.byteLength(r.event),
        0,
      ),
    );
  });

  it("loses and duplicates nothing when the thread dies in the middle of batches", async () => {
    const s = await store(dbPath(), true);
    const writer = retryingWriter(s, 40, { first: 1, max: 5 });
    await s.audit.append(sample(1));
    const results: Promise<unknown>[] = [];
    let failed = 0;
    for (let round = 0; round < 5; round++) {
      for (const it of sample(60, 1 + round * 60))
        results.push(
          writer.enqueueDurable(it).catch((e: unknown) => {
            expect(e).toBeInstanceOf(AuditUnavailableError);
            failed++;
          }),
        );
      // Let a batch reach the thread, then kill it (before or after its COMMIT: either must hold).
      await new Promise((r) => setImmediate(r));
      await s.audit.worker?.terminate();
    }
    await Promise.all(results);
    await writer.flush();
    expect(await auditIDs(s)).toEqual(Array.from({ length: 301 }, (_, i) => `w-${i}`));
    expect(await verifyStoredChain(s.audit)).toMatchObject({ ok: true, count: 301 });
    expect(failed).toBeGreaterThan(0);
    await writer.close();
  });

  it("stores each event once when answers are lost after COMMIT, also during the retry's own checks, while another connection appends", async () => {
    const path = dbPath();
    const s = await store(path, true);
    const other = await store(path, false);
    const writer = retryingWriter(s, 25, { first: 0, max: 1 });
    // A fixed pseudo-random schedule (xorshift), so that a failure can be replayed.
    let x = 0x9e3779b9;
    const rand = (n: number): number => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) % n;
    };
    // The narrow window a real crash rarely hits, made certain: the thread answered (after its
    // COMMIT, or after reading the head), then dies before the answer is seen.
    const client = s.audit.worker;
    if (!client) throw new Error("no writer thread");
    const answer = client.append.bind(client);
    let lostAnswers = 0;
    client.append = async (expect, values) => {
      const r = await answer(expect, values);
      if (rand(3) === 0) {
        lostAnswers++;
        await client.terminate();
        throw new Error(`the audit writer thread exited (1) after answering ${r.kind}`);
      }
      return r;
    };
    const results: Promise<unknown>[] = [];
    const mine: string[] = [];
    const theirs: string[] = [];
    let id = 0;
    for (let round = 0; round < 40; round++) {
      const batch = sample(1 + rand(60), id);
      id += batch.length;
      for (const it of batch) {
        mine.push(it.event.auditID);
        results.push(writer.enqueueDurable(it).catch(() => undefined));
      }
      await new Promise((r) => setTimeout(r, rand(20)));
      if (rand(3) === 0) {
        const o = sample(1 + rand(3), 100_000 + id);
        theirs.push(...o.map((e) => e.event.auditID));
        await other.audit.append(o);
      }
    }
    await Promise.all(results);
    await writer.flush();
    const stored = await auditIDs(s);
    expect(lostAnswers).toBeGreaterThan(10);
    expect(new Set(stored).size).toBe(stored.length);
    expect(stored.filter((a) => !theirs.includes(a))).toEqual(mine);
    expect(stored.filter((a) => theirs.includes(a)).sort()).toEqual([...theirs].sort());
    expect(await verifyStoredChain(s.audit)).toMatchObject({ ok: true, count: stored.length });
    await writer.close();
  });

  it("keeps every acknowledged event when the process is killed with SIGKILL mid-stream", async () => {
    const path = dbPath();
    const child = spawn(
      process.execPath,
      ["--import", "tsx", new URL("./worker-crash-child.ts", import.meta.url).pathname],
      { cwd: new URL("../..", import.meta.url).pathname, env: { ...process.env, GH_DB: path } },
    );
    const acked: string[] = [];
    let buf = "";
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on("exit", (_, sig) => r(sig)));
    await new Promise<void>((resolve) =>
      child.stdout.on("data", (d: Buffer) => {
        buf += d.toString();
        const lines = buf.split("\n");
        buf = lines.pop() ?? "";
        for (const l of lines) if (l.startsWith("ACK ")) acked.push(l.slice(4));
        if (acked.length >= 3000 && !child.killed) {
          child.kill("SIGKILL");
          resolve();
        }
      }),
    );
    expect(await exited).toBe("SIGKILL");
    expect(stderr).toBe("");
    const s = await store(path, false);
    const stored = await auditIDs(s);
    expect(new Set(stored).size).toBe(stored.length);
    const have = new Set(stored);
    expect(acked.filter((id) => !have.has(id))).toEqual([]);
    expect(await verifyStoredChain(s.audit)).toMatchObject({ ok: true, count: stored.length });
  });

  it("refuses batches after the store is closed", async () => {
    const s = await Store.open({ kind: "sqlite", path: dbPath() }, { auditWorker: true });
    await s.audit.append(sample(2));
    await s.close();
    await expect(s.audit.append(sample(1, 2))).rejects.toMatchObject({ code: "CLOSED" });
  });

  it.each([
    ["closes the store", "await s.close();"],
    ["leaves the store open", ""],
  ])("lets the process exit on its own when it %s", (_, closing) => {
    const path = dbPath();
    const script = join(mkdtempSync(join(tmpdir(), "gh-audit-worker-")), "exit.mts");
    const src = new URL("../../src/store/index.ts", import.meta.url).href;
    const events = new URL("./events.ts", import.meta.url).href;
    writeFileSync(
      script,
      `import { Store } from ${JSON.stringify(src)};
import { alice, gatewayEvent } from ${JSON.stringify(events)};
const s = await Store.open({ kind: "sqlite", path: ${JSON.stringify(path)} }, { auditWorker: true });
const head = await s.audit.append([{ source: "gateway", cluster: "c1", event: gatewayEvent({ auditID: "x", uri: "/api/v1/pods", user: alice, at: 0 }) }]);
console.log("HEAD", head.seq, s.audit.threaded);
${closing}
`,
    );
    const r = spawnSync(process.execPath, ["--import", "tsx", script], {
      cwd: new URL("../..", import.meta.url).pathname,
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("HEAD 0 true\n");
    expect(r.status).toBe(0);
  });
});

describe("the writer-thread setting (--audit-writer-thread)", () => {
  const dataDir = (): string => mkdtempSync(join(tmpdir(), "gh-audit-thread-"));
  const config = (settings: RawSettings) =>
    resolveConfig([{ name: "flags", settings: { listen: "127.0.0.1:0", dataDir: dataDir(), ...settings } }]);

  it("is on by default, read from a flag, the environment or a config file, and the server follows it", async () => {
    expect(config({}).audit.writerThread).toBe(true);
    expect(config({ auditWriterThread: "false" }).audit.writerThread).toBe(false);
    expect(config({ auditWriterThread: "true" }).audit.writerThread).toBe(true);
    expect(config(settingsFromEnv({ GATEHOUSE_AUDIT_WRITER_THREAD: "false" })).audit.writerThread).toBe(
      false,
    );
    const file = parseConfigFile(
      "apiVersion: gatehouse.io/v1alpha1\nkind: ServerConfig\nauditWriterThread: false\n",
      "gatehouse.yaml",
    );
    expect(config(file).audit.writerThread).toBe(false);
    const fx = { log: silent, now: () => Date.now(), onAdminPassword: () => undefined };
    for (const [settings, threaded] of [
      [{ auditWriterThread: "false" }, false],
      [{}, true],
    ] as const) {
      const gh = await startGatehouse(config(settings), fx);
      try {
        expect(gh.store.audit.threaded).toBe(threaded);
      } finally {
        await gh.close();
      }
    }
  });

  it("refuses anything but true or false, naming the setting and where it came from", () => {
    for (const bad of ["no", "0", "", "yes", 1]) {
      let err: unknown;
      try {
        config({ auditWriterThread: bad });
      } catch (e) {
        err = e;
      }
      expect(err, String(bad)).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toContain("auditWriterThread (from flags): expected true or false");
    }
  });
});
