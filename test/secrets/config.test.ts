import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, parseConfigFile, resolveConfig, type RawSettings } from "../../src/config/index.js";
import { loadKeyRing, parseKeys } from "../../src/secrets/index.js";
import { gatehouse, startGatehouseProcess } from "../cli/run.js";

const tmp = (): string => mkdtempSync(join(tmpdir(), "gatehouse-keys-"));
const b64 = (n: number): string => randomBytes(n).toString("base64");

function problems(...sources: RawSettings[]): string {
  try {
    resolveConfig(sources.map((settings, i) => ({ name: `source${i}`, settings })));
  } catch (e) {
    if (e instanceof ConfigError) return e.problems.join("\n");
    throw e;
  }
  throw new Error("expected a ConfigError");
}

describe("the encryptionKeyFile setting", { timeout: 120_000 }, () => {
  it("defaults to DATA_DIR/encryption.keys, generated on first start with one key, mode 0600, and reused", () => {
    const dir = tmp();
    const config = resolveConfig([{ name: "t", settings: { dataDir: dir } }]);
    expect(config.encryptionKeys).toEqual({ kind: "generated", path: join(dir, "encryption.keys") });
    const ring = loadKeyRing(config.encryptionKeys);
    const file = join(dir, "encryption.keys");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const keys = parseKeys(readFileSync(file, "utf8"), { name: file, separator: "line" });
    expect(keys.map((k) => k.id)).toEqual([ring.primaryKeyId]);
    const sealed = ring.seal("x", "y");
    expect(loadKeyRing(config.encryptionKeys).open(sealed, "y")).toBe("x");
  });

  it("takes a key file from a flag, the environment or the config file", () => {
    const dir = tmp();
    const file = join(dir, "keys");
    writeFileSync(file, `k2:${b64(32)}\nk1:${b64(32)}\n`, { mode: 0o600 });
    const fromFile = parseConfigFile(`encryptionKeyFile: ${file}\n`, "config.yaml");
    const config = resolveConfig([{ name: "config.yaml", settings: { ...fromFile, dataDir: dir } }]);
    expect(config.encryptionKeys).toEqual({ kind: "file", path: file });
    expect(loadKeyRing(config.encryptionKeys).keyIds()).toEqual(["k2", "k1"]);
  });

  it("takes inline keys from GATEHOUSE_ENCRYPTION_KEYS", () => {
    const config = resolveConfig([
      { name: "environment", settings: { encryptionKeys: `a:${b64(32)};b:${b64(32)}` } },
    ]);
    expect(loadKeyRing(config.encryptionKeys).keyIds()).toEqual(["a", "b"]);
  });

  it("reports an unreadable file, a malformed key and a wrong key length with file and line", () => {
    const dir = tmp();
    expect(problems({ encryptionKeyFile: join(dir, "missing") })).toMatch(
      /encryptionKeyFile \(from source0\): .*missing: cannot read key file: ENOENT/,
    );
    const bad = join(dir, "bad");
    writeFileSync(bad, `# keys\ngood:${b64(32)}\nnocolon\nshort:${b64(24)}\n`);
    const p = problems({ encryptionKeyFile: bad });
    expect(p).toContain(`${bad}:3: expected ID:BASE64-32-BYTES`);
    expect(p).toContain(`${bad}:4: key "short" is 24 bytes; AES-256 keys must be exactly 32 bytes`);
    expect(problems({ encryptionKeys: `a:${b64(31)}` })).toContain("GATEHOUSE_ENCRYPTION_KEYS entry 1");
  });

  it("refuses a key file and inline keys together", () => {
    const dir = tmp();
    const file = join(dir, "keys");
    writeFileSync(file, `a:${b64(32)}\n`);
    expect(problems({ encryptionKeyFile: file }, { encryptionKeys: `b:${b64(32)}` })).toContain("not both");
  });

  it("makes `gatehouse serve` exit 2 with a clear, key-free message for a bad key file", async () => {
    const dir = tmp();
    const file = join(dir, "keys");
    const short = b64(16);
    writeFileSync(file, `a:${short}\n`);
    const r = await gatehouse([
      "serve",
      "--data-dir",
      dir,
      "--encryption-key-file",
      file,
      "--listen",
      "127.0.0.1:0",
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}:1: key "a" is 16 bytes`);
    expect(r.stderr).not.toContain(short);
    const env = await gatehouse(["serve", "--data-dir", dir, "--listen", "127.0.0.1:0"], {
      env: { GATEHOUSE_ENCRYPTION_KEY_FILE: join(dir, "nope") },
    });
    expect(env.code).toBe(2);
    expect(env.stderr).toContain("cannot read key file: ENOENT");
  });

  it("makes `gatehouse serve` exit 2 when the generated default file has become unusable", async () => {
    const dir = tmp();
    writeFileSync(join(dir, "encryption.keys"), "garbage\n");
    chmodSync(join(dir, "encryption.keys"), 0o600);
    const r = await gatehouse(["serve", "--data-dir", dir, "--listen", "127.0.0.1:0"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("cannot load the encryption keys");
    expect(r.stderr).toContain("encryption.keys:1: expected ID:BASE64-32-BYTES");
  });

  it("serves with keys from GATEHOUSE_ENCRYPTION_KEYS and creates no key file then", async () => {
    const dir = tmp();
    const s = await startGatehouseProcess(
      ["serve", "--data-dir", dir, "--listen", "127.0.0.1:0"],
      /serving on/,
      {
        env: { GATEHOUSE_ENCRYPTION_KEYS: `env1:${b64(32)}` },
      },
    );
    s.child.kill("SIGTERM");
    await new Promise((r) => s.child.once("exit", r));
    expect(() => statSync(join(dir, "encryption.keys"))).toThrow();
  });
});
