import { describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { call } from "../server/client.js";
import { gatehouse, startGatehouseProcess } from "./run.js";

const tmp = (): string => mkdtempSync(join(tmpdir(), "gatehouse-cli-"));

describe("gatehouse serve", () => {
  it("serves HTTPS with a self-signed certificate, prints the admin password once and answers /healthz", async () => {
    const dir = tmp();
    const { child, stderr, match } = await startGatehouseProcess(
      ["serve", "--listen", "127.0.0.1:0", "--data-dir", dir, "--log-level", "warn"],
      /serving on (https:\/\/\S+) \(CA certificate: (\S+)\)/,
    );
    try {
      expect(stderr()).toMatch(/Created the first user "admin"/);
      const r = await call(match[1] as string, match[2] as string, "GET", "/healthz");
      expect(r.body).toBe("ok");
      expect(existsSync(join(dir, "gatehouse.db"))).toBe(true);
    } finally {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    }
    const again = await startGatehouseProcess(
      ["serve", "--listen", "127.0.0.1:0", "--data-dir", dir],
      /serving on/,
    );
    expect(again.stderr()).not.toMatch(/Created the first user/);
    again.child.kill("SIGTERM");
    await new Promise((r) => again.child.once("exit", r));
  });

  it("has --help on the command and its subcommands", async () => {
    const top = await gatehouse(["--help"]);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain("serve");
    const serve = await gatehouse(["serve", "--help"]);
    expect(serve.code).toBe(0);
    expect(serve.stdout).toContain("--database <url>");
  });

  it("rejects an unknown flag with exit code 2 and a one-line error", async () => {
    const r = await gatehouse(["serve", "--no-such-flag"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown option '--no-such-flag'");
  });

  it("rejects a config file with an unknown field or bad values, naming each problem", async () => {
    const dir = tmp();
    const file = join(dir, "config.yaml");
    writeFileSync(
      file,
      "apiVersion: gatehouse.io/v1alpha1\nkind: ServerConfig\nlisten: nowhere\nlistne: 1\nlogLevel: loud\n",
    );
    const r = await gatehouse(["serve", "--config", file, "--data-dir", join(dir, "data")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("listne: unknown field");
    expect(existsSync(join(dir, "data"))).toBe(false);
    writeFileSync(file, "listen: nowhere\nlogLevel: loud\n");
    const r2 = await gatehouse(["serve", "--config", file, "--data-dir", join(dir, "data")]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/listen \(from .*config.yaml\): expected HOST:PORT/);
    expect(r2.stderr).toMatch(/logLevel \(from .*config.yaml\): expected one of/);
    expect(r2.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("rejects malformed YAML in the config file", async () => {
    const dir = tmp();
    const file = join(dir, "config.yaml");
    writeFileSync(file, "listen: [unclosed\n");
    const r = await gatehouse(["serve", "--config", file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("not valid YAML");
  });

  it("rejects a data directory it cannot use, with exit code 2", async () => {
    const dir = tmp();
    writeFileSync(join(dir, "a-file"), "");
    const r = await gatehouse([
      "serve",
      "--listen",
      "127.0.0.1:0",
      "--data-dir",
      join(dir, "a-file", "data"),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /data directory .* is not usable: ENOTDIR; choose a readable and writable directory/,
    );
  });

  it("reports a port in use with exit code 2, having created nothing", async () => {
    const blocker = createServer().listen(0, "127.0.0.1");
    await new Promise((r) => blocker.once("listening", r));
    const port = (blocker.address() as { port: number }).port;
    const dir = tmp();
    try {
      const r = await gatehouse(["serve", "--listen", `127.0.0.1:${port}`, "--data-dir", dir]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`cannot listen on 127.0.0.1:${port}: address already in use`);
      expect(r.stderr).not.toContain("Created the first user");
    } finally {
      blocker.close();
    }
  });

  it("reports a database URL that does not answer with exit code 2, without its password", async () => {
    const dir = tmp();
    const r = await gatehouse([
      "serve",
      "--listen",
      "127.0.0.1:0",
      "--data-dir",
      dir,
      "--database",
      "postgres://gh:s3cret@127.0.0.1:1/gatehouse",
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("cannot use the store");
    expect(r.stderr).toContain("check that PostgreSQL is running");
    expect(r.stderr).not.toContain("s3cret");
    expect(readdirSync(dir)).toEqual([]);
  });

  it("rejects a database setting that is neither sqlite: nor postgres://", async () => {
    const r = await gatehouse(["serve", "--database", "mysql://x"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("expected sqlite:PATH or a postgres:// URL");
  });

  it("takes settings from the environment, with flags winning", async () => {
    const r = await gatehouse(["serve", "--listen", "bad"], {
      env: { GATEHOUSE_LISTEN: "127.0.0.1:1234", GATEHOUSE_LOG_LEVEL: "nope" },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'listen (from flags): expected HOST:PORT with a port from 0 to 65535, got "bad"',
    );
    expect(r.stderr).toContain("logLevel (from environment)");
  });
});
