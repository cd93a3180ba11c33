import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config/index.js";
import { startGatehouse, type Gatehouse } from "../../src/server/app.js";
import { call } from "./client.js";

/**
 * Another writer holding the SQLite file's write lock longer than busy_timeout (another process on the
 * file, say): a write is answered 503 with Retry-After, as kube-apiserver answers a storage timeout,
 * changes nothing, and succeeds once the lock is free. Before, it was a bare 500 "Internal error".
 */
describe("a write while another writer holds the SQLite store", () => {
  let gh: Gatehouse;
  let password = "";
  const dataDir = mkdtempSync(join(tmpdir(), "gatehouse-busy-"));
  const user = (name: string) =>
    JSON.stringify({ apiVersion: "gatehouse.io/v1alpha1", kind: "User", metadata: { name }, spec: {} });
  const post = (body: string) =>
    call(gh.url, gh.caFile as string, "POST", "/apis/gatehouse.io/v1alpha1/users", {
      auth: ["admin", password],
      headers: { "content-type": "application/json" },
      body,
    });

  beforeAll(async () => {
    gh = await startGatehouse(
      resolveConfig([{ name: "test", settings: { listen: "127.0.0.1:0", dataDir } }]),
      { log: pino({ level: "silent" }), now: () => Date.now(), onAdminPassword: (pw) => (password = pw) },
    );
  });
  afterAll(async () => {
    await gh?.close();
  });

  it("answers 503 ServiceUnavailable with Retry-After, keeps nothing, and the retry succeeds", async () => {
    const other = new BetterSqlite3(join(dataDir, "gatehouse.db"));
    try {
      other.pragma("busy_timeout = 0");
      other.exec("begin immediate");
      const r = await post(user("while-busy"));
      expect(r.status).toBe(503);
      expect(r.headers["retry-after"]).toBe("1");
      const s = r.json() as Record<string, unknown>;
      expect(s).toMatchObject({
        kind: "Status",
        apiVersion: "v1",
        status: "Failure",
        reason: "ServiceUnavailable",
        code: 503,
        details: { retryAfterSeconds: 1 },
      });
      expect(String(s["message"])).toMatch(/store is busy.*try again/);
      other.exec("rollback");
    } finally {
      other.close();
    }
    const missing = await call(
      gh.url,
      gh.caFile as string,
      "GET",
      "/apis/gatehouse.io/v1alpha1/users/while-busy",
      {
        auth: ["admin", password],
      },
    );
    expect(missing.status).toBe(404);
    const retried = await post(user("while-busy"));
    expect(retried.status).toBe(201);
  }, 30_000);
});
