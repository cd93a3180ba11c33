import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { gatehouse, serveGatehouse, type ServedGatehouse } from "../cli/run.js";
import type { Event } from "../../src/core/audit/index.js";

const MAIN = fileURLToPath(new URL("../../dist/src/cli/main.js", import.meta.url));

describe("gatehouse audit query, tail and verify against a running server", () => {
  let gh: ServedGatehouse;
  let dir = "";
  let password = "";
  beforeAll(async () => {
    gh = await serveGatehouse();
    ({ dataDir: dir, password } = gh);
    for (const name of ["u1", "u2", "u3", "u4", "u5"]) {
      const r = await gatehouse(["users", "create", name, ...conn()], { input: password });
      expect(r.code).toBe(0);
    }
  });
  afterAll(() => gh?.stop());
  const conn = (): string[] => gh.conn();
  const run = (...args: string[]) => gatehouse(["audit", ...args, ...conn()], { input: password });

  it("prints the Gatehouse events for user creations as a table, JSON, JSON lines and YAML", async () => {
    const table = await run("query", "--resource", "users", "--verb", "create");
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split("\n");
    expect(lines[0]).toMatch(
      /^TIME\s+STAGE\s+CLUSTER\s+USER\s+VERB\s+RESOURCE\s+NAMESPACE\s+NAME\s+CODE\s+DECISION\s+AUDIT-ID$/,
    );
    expect(lines.slice(1).map((l) => l.match(/ (u\d) /)?.[1])).toEqual(["u1", "u2", "u3", "u4", "u5"]);
    const json = await run("query", "--resource", "users", "--name", "u3", "-o", "json");
    const list = JSON.parse(json.stdout) as { kind: string; items: Event[] };
    expect(list.kind).toBe("EventList");
    expect(list.items).toHaveLength(1);
    expect(list.items[0]).toMatchObject({
      user: { username: "admin" },
      verb: "create",
      objectRef: { resource: "users", name: "u3", apiGroup: "gatehouse.io" },
      responseStatus: { code: 201 },
      annotations: { "gatehouse.io/event-kind": "user.created" },
    });
    const jsonl = await run("query", "--resource", "users", "-o", "jsonl");
    expect(
      jsonl.stdout
        .trim()
        .split("\n")
        .map((l) => (JSON.parse(l) as Event).objectRef?.name),
    ).toEqual(["u1", "u2", "u3", "u4", "u5"]);
    const yaml = await run("query", "--resource", "users", "--name", "u1", "-o", "yaml");
    expect(yaml.stdout).toMatch(/^kind: EventList\n/);
    expect(yaml.stdout).toContain("name: u1");
  });

  it("pages: --limit prints that many and names the token that continues after them", async () => {
    const first = await run(
      "query",
      "--resource",
      "users",
      "-o",
      "jsonl",
      "--limit",
      "2",
      "--chunk-size",
      "1",
    );
    const names = (out: string) =>
      out
        .trim()
        .split("\n")
        .map((l) => (JSON.parse(l) as Event).objectRef?.name);
    expect(names(first.stdout)).toEqual(["u1", "u2"]);
    const token = (first.stderr.match(/--continue (\S+)/) as RegExpMatchArray)[1] as string;
    const rest = await run(
      "query",
      "--resource",
      "users",
      "-o",
      "jsonl",
      "--limit",
      "0",
      "--continue",
      token,
    );
    expect(names(rest.stdout)).toEqual(["u3", "u4", "u5"]);
    expect(rest.stderr).toBe("");
  });

  it("refuses bad filters with exit code 2 before asking the server", async () => {
    expect((await run("query", "--decision", "maybe")).code).toBe(2);
    expect((await run("query", "--since", "yesterday")).code).toBe(2);
    expect((await run("query", "--code", "99")).code).toBe(2);
    expect((await run("verify", "--head", "12:nothex")).code).toBe(2);
  });

  it("follows new events with tail -f as they are stored", async () => {
    const child = spawn(process.execPath, [
      MAIN,
      "audit",
      "tail",
      "-f",
      "--lines",
      "0",
      "--resource",
      "users",
      "-o",
      "jsonl",
      ...conn(),
    ]);
    child.stdin.end(password);
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    try {
      await new Promise((r) => setTimeout(r, 1500));
      expect((await gatehouse(["users", "create", "tailed", ...conn()], { input: password })).code).toBe(0);
      const deadline = Date.now() + 10_000;
      while (!out.includes('"tailed"') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const seen = out
        .trim()
        .split("\n")
        .map((l) => (JSON.parse(l) as Event).objectRef?.name);
      expect(seen).toEqual(["tailed"]);
    } finally {
      child.kill("SIGTERM");
    }
    const last = await run("tail", "--lines", "1", "--resource", "users", "-o", "jsonl");
    expect((JSON.parse(last.stdout) as Event).objectRef?.name).toBe("tailed");
  });

  it("verifies an untouched chain, then finds an event altered, removed or reordered in the SQLite file", async () => {
    const ok = await run("verify");
    expect(ok.code).toBe(0);
    const m = ok.stdout.match(/^ok: (\d+) events verified; head (\d+:[0-9a-f]{64})\n$/) as RegExpMatchArray;
    expect(m).not.toBeNull();
    const head = m[2] as string;
    const db = new BetterSqlite3(join(dir, "gatehouse.db"));
    try {
      const row = db.prepare("select id, event from audit_events where name = 'u2'").get() as {
        id: number;
        event: string;
      };
      db.prepare("update audit_events set event = ? where id = ?").run(
        row.event.replace('"u2"', '"u9"'),
        row.id,
      );
      const altered = await run("verify");
      expect(altered.code).toBe(1);
      expect(altered.stdout).toMatch(/^altered: event at position \d+ \(seq \d+, auditID \S+\)/);
      db.prepare("update audit_events set event = ? where id = ?").run(row.event, row.id);
      expect((await run("verify")).code).toBe(0);

      const moved = db
        .prepare("select * from audit_events where name in ('u3', 'u4') order by seq")
        .all() as Record<string, unknown>[];
      db.prepare("delete from audit_events where name in ('u3', 'u4')").run();
      expect((await run("verify")).stdout).toMatch(/^removed: /);
      const cols = Object.keys(moved[0] as object).filter((c) => c !== "id");
      const insert = db.prepare(
        `insert into audit_events (${cols.join(", ")}) values (${cols.map((c) => "@" + c).join(", ")})`,
      );
      for (const r of moved.reverse()) insert.run(Object.fromEntries(cols.map((c) => [c, r[c]])));
      const reordered = await run("verify");
      expect(reordered.code).toBe(1);
      expect(reordered.stdout).toMatch(/^reordered: /);

      db.prepare("delete from audit_events where seq > ?").run(Number(head.split(":")[0]) - 1);
      db.prepare("delete from audit_events where name in ('u3', 'u4')").run();
      const json = await run("verify", "-o", "json", "--head", head);
      expect(json.code).toBe(1);
      expect(JSON.parse(json.stdout)).toMatchObject({
        ok: false,
        problem: expect.stringMatching(/removed|reordered/),
      });
    } finally {
      db.close();
    }
  });
});
