import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import type { ChildProcess } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gatehouse, startGatehouseProcess } from "./run.js";

describe("gatehouse apply, get and delete: GitOps for access objects", () => {
  let server: ChildProcess;
  let conn: string[] = [];
  let password = "";
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-objects-"));
  beforeAll(async () => {
    const s = await startGatehouseProcess(
      ["serve", "--listen", "127.0.0.1:0", "--data-dir", join(dir, "data"), "--log-level", "warn"],
      /serving on (https:\/\/\S+) \(CA certificate: (\S+)\)/,
    );
    server = s.child;
    password = (s.stderr().match(/keep it safe:\s+(\S+)/) as RegExpMatchArray)[1] as string;
    conn = [
      "--server",
      s.match[1] as string,
      "--username",
      "admin",
      "--password-stdin",
      "--certificate-authority",
      s.match[2] as string,
    ];
  });
  afterAll(() => {
    server?.kill("SIGTERM");
  });
  const run = (...args: string[]) => gatehouse([...args, ...conn], { input: password });

  const manifest = (role: string) => `apiVersion: gatehouse.io/v1alpha1
kind: Team
metadata:
  name: devs
spec:
  groups: [engineers]
---
apiVersion: gatehouse.io/v1alpha1
kind: AccessBinding
metadata:
  name: devs-on-dev
spec:
  subjects: [{ kind: Team, name: devs }]
  roleRef: { name: ${role} }
  clusters: { selector: { matchLabels: { env: dev } } }
`;

  it("creates objects from a multi-document file, then reports them unchanged, then configured", async () => {
    const file = join(dir, "access.yaml");
    writeFileSync(file, manifest("view"));
    const first = await run("apply", "-f", file);
    expect(first.stderr).toBe("");
    expect(first.stdout).toBe(
      "teams.gatehouse.io/devs created\naccessbindings.gatehouse.io/devs-on-dev created\n",
    );
    expect((await run("apply", "-f", file)).stdout).toBe(
      "teams.gatehouse.io/devs unchanged\naccessbindings.gatehouse.io/devs-on-dev unchanged\n",
    );
    writeFileSync(file, manifest("edit"));
    expect((await run("apply", "-f", dir)).stdout).toContain(
      "accessbindings.gatehouse.io/devs-on-dev configured",
    );
    const got = await run("get", "accessbinding", "devs-on-dev", "-o", "json");
    expect(JSON.parse(got.stdout).spec.roleRef.name).toBe("edit");
  });

  it("lists with short names and deletes", async () => {
    expect((await run("get", "ab", "-o", "name")).stdout).toBe("accessbindings.gatehouse.io/devs-on-dev\n");
    const table = await run("get", "teams");
    expect(table.stdout).toMatch(/^NAME\s+AGE\ndevs\s+\d+s\n$/);
    expect((await run("delete", "team", "devs")).stdout).toBe('teams.gatehouse.io "devs" deleted\n');
    const gone = await run("get", "team", "devs");
    expect(gone.code).toBe(2);
    expect(gone.stderr).toContain('teams.gatehouse.io "devs" not found');
  });

  it("refuses invalid objects with the server's reasons and changes nothing", async () => {
    const file = join(dir, "bad", "bad.yaml");
    (await import("node:fs")).mkdirSync(join(dir, "bad"));
    writeFileSync(
      file,
      "apiVersion: gatehouse.io/v1alpha1\nkind: AccessBinding\nmetadata:\n  name: broken\nspec:\n  subjects: []\n  clusters: {}\n",
    );
    const r = await run("apply", "-f", file);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("spec.subjects: at least one subject is required");
    expect(r.stderr).toContain("spec.roleRef.name: required");
    writeFileSync(file, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n");
    const wrong = await run("apply", "-f", file);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain("apiVersion must be gatehouse.io/v1alpha1");
    writeFileSync(file, "kind: [unclosed\n");
    const malformed = await run("apply", "-f", file);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/bad\.yaml document 1/);
    expect((await run("get", "ab", "broken")).code).toBe(2);
  });

  it("names unknown resource types", async () => {
    const r = await run("get", "widgets");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('the server doesn\'t have a resource type "widgets"');
  });
});
