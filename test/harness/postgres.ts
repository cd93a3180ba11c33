/**
 * A throwaway PostgreSQL server for tests: initdb into a temporary directory, started on a free
 * loopback port, removed on stop. As root, PostgreSQL runs as the `postgres` system user (it refuses
 * to run as root).
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { freePort } from "./ports.js";

export interface TestPostgres {
  /** postgres://gatehouse@127.0.0.1:PORT/gatehouse (trust auth on loopback only). */
  url: string;
  port: number;
  /** Make a new empty database and return its URL (one per test file keeps suites independent). */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

export function postgresBinDir(): string {
  for (const d of [
    "/usr/lib/postgresql/15/bin",
    "/usr/lib/postgresql/16/bin",
    "/usr/lib/postgresql/17/bin",
  ]) {
    if (existsSync(join(d, "postgres"))) return d;
  }
  try {
    return execFileSync("pg_config", ["--bindir"], { encoding: "utf8" }).trim();
  } catch {
    throw new Error(
      "PostgreSQL server binaries not found: install Debian's postgresql-15 (scripts/test.mjs does this)",
    );
  }
}

export async function startPostgres(): Promise<TestPostgres> {
  const bin = postgresBinDir();
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-pg-"));
  const data = join(dir, "data");
  const asRoot = userInfo().uid === 0;
  const run = (cmd: string, args: string[]): string =>
    asRoot
      ? execFileSync("runuser", ["-u", "postgres", "--", join(bin, cmd), ...args], {
          encoding: "utf8",
          stdio: "pipe",
        })
      : execFileSync(join(bin, cmd), args, { encoding: "utf8", stdio: "pipe" });
  if (asRoot) chownSync(dir, uidOf("postgres"), gidOf("postgres"));
  run("initdb", ["-D", data, "-U", "gatehouse", "--auth=trust", "--no-sync", "-E", "UTF8"]);
  writeFileSync(
    join(data, "postgresql.auto.conf"),
    "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n",
    {
      flag: "a",
    },
  );
  const port = await freePort();
  const args = ["-D", data, "-p", String(port), "-k", dir, "-h", "127.0.0.1", "-c", "max_connections=200"];
  const proc: ChildProcess = asRoot
    ? spawn("runuser", ["-u", "postgres", "--", join(bin, "postgres"), ...args], { stdio: "ignore" })
    : spawn(join(bin, "postgres"), args, { stdio: "ignore" });
  const base = `postgres://gatehouse@127.0.0.1:${port}`;
  const pg = (await import("pg")).default;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const c = new pg.Client({ connectionString: `${base}/postgres` });
    try {
      await c.connect();
      await c.query("create database gatehouse");
      await c.end();
      break;
    } catch (e) {
      await c.end().catch(() => undefined);
      if (Date.now() > deadline) throw new Error(`PostgreSQL did not start: ${String(e)}`, { cause: e });
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return {
    url: `${base}/gatehouse`,
    port,
    async createDatabase(name: string): Promise<string> {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
      const c = new pg.Client({ connectionString: `${base}/postgres` });
      await c.connect();
      try {
        await c.query(`create database ${name}`);
      } finally {
        await c.end();
      }
      return `${base}/${name}`;
    },
    async stop(): Promise<void> {
      await new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once("exit", () => resolve());
        proc.kill("SIGINT");
        setTimeout(() => proc.kill("SIGKILL"), 10_000).unref();
      });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function uidOf(user: string): number {
  return Number(execFileSync("id", ["-u", user], { encoding: "utf8" }).trim());
}
function gidOf(user: string): number {
  return Number(execFileSync("id", ["-g", user], { encoding: "utf8" }).trim());
}
