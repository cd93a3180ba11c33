import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClusterCredentialsError } from "../../src/clusters/index.js";
import { startFixture, type GatehouseFixture } from "../clusters/fixture.js";

const BASE = "/apis/gatehouse.io/v1alpha1/clusters";
const line = (id: string): string => `${id}:${randomBytes(32).toString("base64")}`;

/** The key id each stored Cluster's credentials are sealed with. */
async function keyIds(gh: GatehouseFixture): Promise<Record<string, string>> {
  const page = await gh.gh.store.objects.list("Cluster", { limit: 100 });
  return Object.fromEntries(
    page.items.map((r) => [
      r.name,
      (r.body["spec"] as { credentials: { ciphertext: string } }).credentials.ciphertext.split(
        ":",
      )[1] as string,
    ]),
  );
}

describe("key rotation with gatehouse secrets reencrypt", { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-rotate-"));
  const keyFile = join(dir, "keys");
  const oldKey = line("old");
  const newKey = line("new");
  let gh: GatehouseFixture;

  beforeAll(async () => {
    writeFileSync(keyFile, `# first key\n${oldKey}\n`, { mode: 0o600 });
    gh = await startFixture({ dataDir: join(dir, "data"), encryptionKeyFile: keyFile });
    for (const [name, token] of [
      ["a", "token-a"],
      ["b", "token-b"],
    ])
      expect(
        (
          await gh.api("POST", BASE, {
            apiVersion: "gatehouse.io/v1alpha1",
            kind: "Cluster",
            metadata: { name },
            spec: { server: "https://127.0.0.1:1", credentials: { token } },
          })
        ).status,
      ).toBe(201);
  });
  afterAll(async () => {
    await gh?.stop();
  });

  it("keeps using the old key for reading after a new key is put first, and re-encrypts under the new one", async () => {
    expect(await keyIds(gh)).toEqual({ a: "old", b: "old" });
    writeFileSync(keyFile, `${newKey}\n${oldKey}\n`);
    await gh.restart();
    expect((await gh.registry().get("a"))?.token).toBe("token-a");

    const r = await gh.cli(["secrets", "reencrypt"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("re-encrypted 2 secret(s) under key new; 0 already were\n");
    expect(await keyIds(gh)).toEqual({ a: "new", b: "new" });

    const again = await gh.cli(["secrets", "reencrypt", "-o", "json"]);
    expect(JSON.parse(again.stdout)).toMatchObject({
      kind: "Reencryption",
      status: { primaryKeyId: "new", rewritten: 0, current: 2, failed: [] },
    });
  });

  it("works without the old key once everything is re-encrypted; nothing secret is in the output", async () => {
    writeFileSync(keyFile, `${newKey}\n`);
    await gh.restart();
    const reg = gh.registry();
    expect((await reg.get("a"))?.token).toBe("token-a");
    expect((await reg.get("b"))?.token).toBe("token-b");
    const files = readdirSync(join(dir, "data")).filter((n) => n.startsWith("gatehouse.db"));
    const bytes = Buffer.concat(files.map((n) => readFileSync(join(dir, "data", n))));
    expect(bytes.includes(Buffer.from("token-a"))).toBe(false);
  });

  it("reports secrets whose key was removed too early, exits 1, and leaves them untouched", async () => {
    // A secret sealed under a key that is then dropped without re-encryption.
    writeFileSync(keyFile, `${line("interim")}\n${newKey}\n`);
    await gh.restart();
    expect(
      (
        await gh.api("POST", BASE, {
          apiVersion: "gatehouse.io/v1alpha1",
          kind: "Cluster",
          metadata: { name: "c" },
          spec: { server: "https://127.0.0.1:1", credentials: { token: "token-c" } },
        })
      ).status,
    ).toBe(201);
    writeFileSync(keyFile, `${line("latest")}\n${newKey}\n`);
    await gh.restart();
    await expect(gh.registry().get("c")).rejects.toBeInstanceOf(ClusterCredentialsError);
    await expect(gh.registry().get("c")).rejects.toThrow(
      /encrypted with key "interim", which is not in the key ring/,
    );

    const r = await gh.cli(["secrets", "reencrypt"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("re-encrypted 2 secret(s) under key latest; 0 already were\n");
    expect(r.stderr).toContain(
      'error: Cluster/c: cannot decrypt Cluster/c/credentials: it was encrypted with key "interim"',
    );
    expect(r.stderr).toContain("keep the old keys");
    expect(await keyIds(gh)).toEqual({ a: "latest", b: "latest", c: "interim" });
  });
});
