import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startClusters, type TestCluster } from "../harness/clusters.js";
import { startSlapd, type TestSlapd } from "../harness/slapd.js";
import { kubectl } from "../e2e/kubectl.js";
import { gatehouse } from "../cli/run.js";
import { startIdentityFixture, type IdentityFixture } from "../identity/fixture.js";
import { base32Decode, hotp, totpStep } from "../../src/identity/totp.js";
import { ldapProvider } from "./fixture.js";

const API = "/apis/gatehouse.io/v1alpha1";

describe("gatehouse login --provider (LDAP) then the real kubectl through the gateway", () => {
  let fx: IdentityFixture;
  let slapd: TestSlapd;
  let cluster: TestCluster;
  let home: string;

  beforeAll(async () => {
    let clusters: TestCluster[];
    [fx, slapd, clusters] = await Promise.all([
      startIdentityFixture(),
      startSlapd(),
      startClusters(1, { name: "ldap-c1" }),
    ]);
    cluster = clusters[0] as TestCluster;
    fx.addCluster(cluster);
    await fx.admin("POST", `${API}/identityproviders`, ldapProvider(slapd, "corp"));
    // Access through a group alice is in only by nesting (developers ⊂ platform).
    await fx.admin("POST", `${API}/accessbindings`, {
      apiVersion: "gatehouse.io/v1alpha1",
      kind: "AccessBinding",
      metadata: { name: "platform-view" },
      spec: {
        subjects: [{ kind: "Group", name: "ldap:platform" }],
        roleRef: { name: "view" },
        clusters: { names: ["ldap-c1"] },
      },
    });
    await fx.gh.reconciler.runOnce();
    home = mkdtempSync(join(tmpdir(), "gatehouse-ldap-home-"));
  }, 240_000);
  afterAll(async () => {
    await fx?.gh.close();
    await slapd?.destroy();
    await cluster?.stop();
  });

  const env = (): NodeJS.ProcessEnv => ({
    GATEHOUSE_CACHE_DIR: join(home, "cache"),
    HOME: home,
    KUBECONFIG: join(home, "kubeconfig"),
  });
  const login = (user: string, input: string, ...flags: string[]) =>
    gatehouse(
      [
        "login",
        fx.gh.url,
        "--username",
        user,
        ...flags,
        "--certificate-authority",
        fx.ca,
        "--kubeconfig",
        join(home, "kubeconfig"),
      ],
      { input, env: env() },
    );

  it("alice signs in with her LDAP password and kubectl acts as alice with her LDAP groups", async () => {
    const r = await login("alice", "alice-pw\n", "--provider", "corp", "--password-stdin");
    expect(r.stderr).toContain("signed in to");
    expect(r.code).toBe(0);
    const who = await kubectl(["--context", "ldap-c1", "auth", "whoami", "-o", "json"], { env: env() });
    expect(who.stderr).toBe("");
    const info = (JSON.parse(who.stdout) as { status: { userInfo: { username: string; groups: string[] } } })
      .status.userInfo;
    expect(info.username).toBe("alice");
    expect(info.groups).toEqual(
      expect.arrayContaining(["ldap:developers", "ldap:platform", "ldap:engineering"]),
    );
    const pods = await kubectl(["--context", "ldap-c1", "get", "pods", "-n", "default"], { env: env() });
    expect(pods.code).toBe(0);
    const denied = await kubectl(["--context", "ldap-c1", "create", "namespace", "nope"], { env: env() });
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain("forbidden");
  }, 120_000);

  it("a wrong LDAP password: exit 2 and the same message as for an unknown user", async () => {
    const wrong = await login("alice", "nope\n", "--provider", "corp", "--password-stdin");
    const unknown = await login("nobody", "alice-pw\n", "--provider", "corp", "--password-stdin");
    for (const r of [wrong, unknown])
      expect({ code: r.code, stderr: r.stderr }).toEqual({
        code: 2,
        stderr: expect.stringContaining("invalid username or password") as string,
      });
  });

  it("bob (not in ldap:platform) signs in but sees no cluster", async () => {
    const r = await login("bob", "bob-pw\n", "--provider", "corp", "--password-stdin");
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("no clusters are visible to bob");
  });

  it("a local user with TOTP: users totp enroll, then login needs --totp-stdin", async () => {
    await fx.user("erin", "erins-long-password");
    const admin = readFileSync(join(fx.dir, "admin-password"), "utf8");
    const enrolled = await gatehouse(
      [
        "users",
        "totp",
        "enroll",
        "erin",
        "-o",
        "json",
        "--server",
        fx.gh.url,
        "--username",
        "admin",
        "--password-stdin",
        "--certificate-authority",
        fx.ca,
      ],
      { input: admin },
    );
    expect(enrolled.stderr).toBe("");
    expect(enrolled.code).toBe(0);
    const e = JSON.parse(enrolled.stdout) as { secret: string; uri: string };
    expect(e.uri).toMatch(/^otpauth:\/\/totp\/Gatehouse%3Aerin\?secret=/);
    const without = await login("erin", "erins-long-password\n", "--password-stdin");
    expect(without.code).toBe(2);
    expect(without.stderr).toContain("--totp-stdin");
    const code = hotp(base32Decode(e.secret) as Buffer, totpStep(Date.now()));
    const ok = await login("erin", `erins-long-password\n${code}\n`, "--password-stdin", "--totp-stdin");
    expect(ok.stderr).toContain("signed in to");
    expect(ok.code).toBe(0);
    const disabled = await gatehouse(
      [
        "users",
        "totp",
        "disable",
        "erin",
        "--server",
        fx.gh.url,
        "--username",
        "admin",
        "--password-stdin",
        "--certificate-authority",
        fx.ca,
      ],
      { input: admin },
    );
    expect(disabled.stdout).toBe("user/erin TOTP disabled\n");
  }, 60_000);

  it("gatehouse idp test explains a wrong bind password (exit 1) and passes a good setup (exit 0)", async () => {
    await fx.admin(
      "POST",
      `${API}/identityproviders`,
      ldapProvider(slapd, "corp-bad", { bindPassword: "wrong" }),
    );
    const admin = readFileSync(join(fx.dir, "admin-password"), "utf8");
    const run = (name: string) =>
      gatehouse(
        [
          "idp",
          "test",
          name,
          "--server",
          fx.gh.url,
          "--username",
          "admin",
          "--password-stdin",
          "--certificate-authority",
          fx.ca,
        ],
        { input: admin },
      );
    const bad = await run("corp-bad");
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain("✓ connect: ldaps://127.0.0.1");
    expect(bad.stdout).toMatch(
      /✗ service bind: the server refused bindDN cn=gatehouse,ou=services,dc=example,dc=test .*check both/,
    );
    const good = await run("corp");
    expect(good.stdout).toContain("✓ user search");
    expect(good.code).toBe(0);
  }, 60_000);

  it("--help documents --provider and --totp-stdin", async () => {
    const h = await gatehouse(["login", "--help"]);
    expect(h.stdout).toContain("--provider <name>");
    expect(h.stdout).toContain("--totp-stdin");
    const t = await gatehouse(["users", "totp", "--help"]);
    expect(t.stdout).toContain("enroll");
    expect(t.stdout).toContain("disable");
  });
});
