import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gatehouse, serveGatehouse, type ServedGatehouse } from "./run.js";

/** Management commands without a password use the login `gatehouse login` cached. */
describe("management commands on a cached login", () => {
  let gh: ServedGatehouse;
  let home: string;
  const env = (): NodeJS.ProcessEnv => ({
    GATEHOUSE_CACHE_DIR: join(home, "cache"),
    HOME: home,
    GATEHOUSE_SERVER: "",
    GATEHOUSE_USERNAME: "",
    GATEHOUSE_PASSWORD: "",
    GATEHOUSE_CA: "",
  });
  const login = (user: string, password: string): ReturnType<typeof gatehouse> =>
    gatehouse(
      [
        "login",
        gh.url,
        "--username",
        user,
        "--password-stdin",
        "--certificate-authority",
        gh.caFile,
        "--kubeconfig",
        join(home, "kubeconfig"),
      ],
      { input: `${password}\n`, env: env() },
    );

  beforeAll(async () => {
    gh = await serveGatehouse();
    home = mkdtempSync(join(tmpdir(), "gatehouse-home-"));
  }, 60_000);
  afterAll(() => gh?.stop());

  it("without any login or server, says how to give one (exit 2)", async () => {
    const r = await gatehouse(["users", "list"], { env: env() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("no server given");
    expect(r.stderr).toContain("gatehouse login");
  });

  it("after gatehouse login, runs as the signed-in user with no flags at all", async () => {
    expect((await login("admin", gh.password)).code).toBe(0);
    const r = await gatehouse(["users", "list", "-o", "json"], { env: env() });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const names = (JSON.parse(r.stdout) as { items: { metadata: { name: string } }[] }).items.map(
      (i) => i.metadata.name,
    );
    expect(names).toContain("admin");
  });

  it("picks the login for --server, and refuses a user who has not signed in there", async () => {
    const ok = await gatehouse(["users", "list", "--server", gh.url], { env: env() });
    expect(ok.code).toBe(0);
    const other = await gatehouse(["users", "list", "--server", gh.url, "--username", "carol"], {
      env: env(),
    });
    expect(other.code).toBe(2);
    expect(other.stderr).toContain(`not logged in to ${new URL(gh.url).origin} as carol`);
  });

  it("after gatehouse logout, the cached login is gone and commands say so", async () => {
    const out = await gatehouse(["logout", gh.url, "--username", "admin"], { env: env() });
    expect(out.code, out.stderr).toBe(0);
    const r = await gatehouse(["users", "list", "--server", gh.url], { env: env() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("not logged in");
  });
});
