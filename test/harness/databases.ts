import { randomBytes } from "node:crypto";
import { inject } from "vitest";
import pg from "pg";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DatabaseLocation } from "../../src/store/index.js";

/** Both dialects, each with a fresh empty database, so every data-layer test runs on both. */
export async function freshDatabases(): Promise<{ name: string; location: DatabaseLocation }[]> {
  return [
    {
      name: "sqlite",
      location: {
        kind: "sqlite",
        path: join(mkdtempSync(join(tmpdir(), "gatehouse-sqlite-")), "gatehouse.db"),
      },
    },
    { name: "postgres", location: { kind: "postgres", url: await freshPostgresDatabase() } },
  ];
}

export async function freshPostgresDatabase(): Promise<string> {
  const base = inject("postgresUrl");
  const name = `t_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const u = new URL(base);
  u.pathname = `/${name}`;
  return u.toString();
}
