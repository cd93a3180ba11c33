import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gatehouse, serveGatehouse, type ServedGatehouse } from "./run.js";

describe("gatehouse users, a client of the management API", () => {
  let gh: ServedGatehouse;
  let url = "";
  let password = "";
  beforeAll(async () => {
    gh = await serveGatehouse();
    ({ url, password } = gh);
  });
  afterAll(() => gh?.stop());
  const conn = (): string[] => gh.conn();

  it("creates a user and lists users as a table and as JSON", async () => {
    const created = await gatehouse(["users", "create", "carol", "--group", "dev", "ops", ...conn()], {
      input: password,
      env: { GATEHOUSE_NEW_PASSWORD: "carols-long-password" },
    });
    expect(created.stderr).toBe("");
    expect(created.code).toBe(0);
    expect(created.stdout).toBe("user/carol created\n");
    const table = await gatehouse(["users", "list", ...conn()], { input: password });
    expect(table.code).toBe(0);
    expect(table.stdout.split("\n")[0]).toMatch(/^NAME\s+GROUPS\s+DISABLED\s+PASSWORD\s+CREATED$/);
    expect(table.stdout).toMatch(/carol\s+dev,ops\s+false\s+set/);
    const json = await gatehouse(["users", "list", "-o", "json", ...conn()], { input: password });
    expect(JSON.parse(json.stdout).items.map((u: { metadata: { name: string } }) => u.metadata.name)).toEqual(
      ["admin", "carol"],
    );
  });

  it("exits 2 with the server's message for a wrong password and for a missing user", async () => {
    const wrong = await gatehouse(["users", "list", ...conn()], { input: "not-the-password" });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain("the server refused: Unauthorized");
    const missing = await gatehouse(["users", "get", "nobody", ...conn()], { input: password });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('users.gatehouse.io "nobody" not found');
  });

  it("exits 3 when the server cannot be reached or its certificate is not trusted, saying what to do", async () => {
    const down = await gatehouse(
      ["users", "list", "--server", "https://127.0.0.1:1", "--username", "admin", "--password-stdin"],
      { input: password },
    );
    expect(down.code).toBe(3);
    expect(down.stderr).toContain("cannot reach https://127.0.0.1:1: ECONNREFUSED");
    const untrusted = await gatehouse(
      ["users", "list", "--server", url, "--username", "admin", "--password-stdin"],
      { input: password },
    );
    expect(untrusted.code).toBe(3);
    expect(untrusted.stderr).toContain("--certificate-authority");
  });

  it("refuses plain http and a missing server with exit code 2", async () => {
    expect(
      (await gatehouse(["users", "list", "--server", "http://127.0.0.1:8443", "--username", "a"])).code,
    ).toBe(2);
    const none = await gatehouse(["users", "list"], { env: { GATEHOUSE_SERVER: "" } });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("no server given");
  });
});
