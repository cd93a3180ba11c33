import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type Server, type Socket } from "node:net";
import { ldapProviderFactory } from "../../src/identity/providers/ldap/index.js";
import { ProviderUnavailableError, type PasswordProvider } from "../../src/identity/providers/types.js";
import { BASE_DN, startSlapd, type TestSlapd } from "../harness/slapd.js";
import { freePort } from "../harness/ports.js";

const common = (name = "corp") => ({
  name,
  displayName: "Corp LDAP",
  usernamePrefix: "",
  groupsPrefix: "ldap:",
  timeoutMs: 3_000,
});

function section(s: TestSlapd, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    url: s.ldapsUrl,
    caData: s.caPem,
    bindDN: s.serviceDN,
    bindPassword: s.servicePassword,
    userSearch: {
      baseDN: `ou=people,${BASE_DN}`,
      filter: "(&(objectClass=inetOrgPerson)(!(employeeType=disabled)))",
      usernameAttribute: "uid",
    },
    groupSearch: {
      baseDN: `ou=groups,${BASE_DN}`,
      filter: "(objectClass=groupOfNames)",
      memberAttribute: "member",
      nameAttribute: "cn",
    },
    nestedGroups: true,
    ...over,
  };
}

const make = (s: TestSlapd, over: Record<string, unknown> = {}, name = "corp"): PasswordProvider => {
  const sec = section(s, over);
  expect(ldapProviderFactory.validate(sec)).toEqual([]);
  return ldapProviderFactory.create(common(name), sec) as PasswordProvider;
};
const sig = () => AbortSignal.timeout(10_000);

describe("LDAP provider against a real OpenLDAP slapd", () => {
  let slapd: TestSlapd;
  beforeAll(async () => {
    slapd = await startSlapd();
  });
  afterAll(async () => {
    await slapd?.destroy();
  });

  it("signs alice in over LDAPS with her nested groups resolved", async () => {
    const id = await make(slapd).authenticate("alice", "alice-pw", sig());
    expect(id).toEqual({
      provider: "corp",
      subject: `uid=alice,ou=people,${BASE_DN}`,
      username: "alice",
      email: "alice@example.test",
      groups: ["ldap:developers", "ldap:engineering", "ldap:platform"],
    });
  });

  it("signs alice in over ldap:// with StartTLS", async () => {
    const p = make(slapd, { url: slapd.ldapUrl, startTLS: true });
    expect((await p.authenticate("alice", "alice-pw", sig()))?.username).toBe("alice");
  });

  it("resolves groups from the memberOf overlay too, nested and only direct", async () => {
    const over = { groupSearch: undefined, memberOfAttribute: "memberOf" };
    const nested = await make(slapd, over).authenticate("alice", "alice-pw", sig());
    expect(nested?.groups).toEqual(["ldap:developers", "ldap:engineering", "ldap:platform"]);
    const direct = await make(slapd, { ...over, nestedGroups: false }).authenticate(
      "alice",
      "alice-pw",
      sig(),
    );
    expect(direct?.groups).toEqual(["ldap:developers"]);
  });

  it("ends at a group cycle (cycle-a ⊃ cycle-b ⊃ cycle-a) with each group once", async () => {
    for (const over of [{}, { groupSearch: undefined, memberOfAttribute: "memberOf" }]) {
      const id = await make(slapd, over).authenticate("carol", "carol-pw", sig());
      expect(id?.groups).toEqual(["ldap:cycle-a", "ldap:cycle-b"]);
    }
  });

  it("stops nested resolution at maxGroupDepth", async () => {
    const id = await make(slapd, { maxGroupDepth: 2 }).authenticate("alice", "alice-pw", sig());
    expect(id?.groups).toEqual(["ldap:developers", "ldap:platform"]);
  });

  it("answers undefined for a wrong password and for an unknown user alike", async () => {
    const p = make(slapd);
    expect(await p.authenticate("alice", "wrong", sig())).toBeUndefined();
    expect(await p.authenticate("nobody", "alice-pw", sig())).toBeUndefined();
  });

  it("refuses an empty password before any bind (an unauthenticated bind would succeed)", async () => {
    // Even with a broken service account: nothing reaches the server.
    const p = make(slapd, { bindPassword: "wrong" });
    expect(await p.authenticate("alice", "", sig())).toBeUndefined();
  });

  it("refuses users outside userSearch.filter (dave is disabled-ish)", async () => {
    expect(await make(slapd).authenticate("dave", "dave-pw", sig())).toBeUndefined();
    expect(
      (
        await make(slapd, { userSearch: { baseDN: `ou=people,${BASE_DN}` } }).authenticate(
          "dave",
          "dave-pw",
          sig(),
        )
      )?.username,
    ).toBe("dave");
  });

  it("maps the username from the directory, not from what was typed", async () => {
    // uid matching is case-insensitive in LDAP: ALICE finds alice, and the session is alice's.
    const id = await make(slapd).authenticate("ALICE", "alice-pw", sig());
    expect(id?.username).toBe("alice");
  });

  it("applies the username prefix and an alternative username attribute", async () => {
    const p = ldapProviderFactory.create(
      { ...common(), usernamePrefix: "corp:" },
      section(slapd, { attributes: { username: "mail" } }),
    ) as PasswordProvider;
    expect((await p.authenticate("bob", "bob-pw", sig()))?.username).toBe("corp:bob@example.test");
  });

  describe("LDAP injection in the username matches no one", () => {
    const attempts = [
      "*",
      "a*",
      "*)(uid=*",
      "alice)(|(uid=*",
      "alice)(uid=*))(|(uid=*",
      "*)(objectClass=*",
      "alice\0",
      "alice\0)(uid=*",
      "\\2a",
      "alice\\",
      "(uid=alice)",
      "*)(|(userPassword=*)",
    ];
    for (const username of attempts)
      it(`${JSON.stringify(username)} with alice's and bob's passwords`, async () => {
        const p = make(slapd);
        expect(await p.authenticate(username, "alice-pw", sig())).toBeUndefined();
        expect(await p.authenticate(username, "bob-pw", sig())).toBeUndefined();
      });

    it("a username with filter characters signs in as exactly that user", async () => {
      const id = await make(slapd).authenticate("o*brien", "eve-pw", sig());
      expect(id?.username).toBe("o*brien");
      // ...and a wildcard that would match o*brien if unescaped does not.
      expect(await make(slapd).authenticate("o*", "eve-pw", sig())).toBeUndefined();
    });
  });

  it("refuses a server whose certificate comes from another CA, with a clear error", async () => {
    const p = make(slapd, { caData: slapd.otherCaPem });
    const e = await p.authenticate("alice", "alice-pw", sig()).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ProviderUnavailableError);
    expect((e as Error).message).toMatch(/certificate is not trusted.*caData or caFile/);
    // StartTLS too.
    const s = make(slapd, { url: slapd.ldapUrl, startTLS: true, caData: slapd.otherCaPem });
    const e2 = await s.authenticate("alice", "alice-pw", sig()).catch((x: unknown) => x);
    expect((e2 as Error).message).toMatch(/StartTLS.*certificate is not trusted/);
  });

  it("reads the CA from caFile", async () => {
    const f = join(mkdtempSync(join(tmpdir(), "gatehouse-ldap-ca-")), "ca.pem");
    writeFileSync(f, slapd.caPem);
    const p = make(slapd, { caData: undefined, caFile: f });
    expect((await p.authenticate("bob", "bob-pw", sig()))?.groups).toEqual(["ldap:admins"]);
  });

  it("connects with insecureSkipVerify only when it is set, and test() warns about it", async () => {
    const p = make(slapd, { caData: undefined, insecureSkipVerify: true });
    expect((await p.authenticate("bob", "bob-pw", sig()))?.username).toBe("bob");
    const checks = await p.test(sig());
    expect(checks[0]).toMatchObject({ step: "connect", ok: true });
    expect(checks[0]?.message).toMatch(/WARNING: certificate verification is off/);
    // Without the flag and without a CA, the system trust store does not know the test CA.
    const strict = make(slapd, { caData: undefined });
    await expect(strict.authenticate("bob", "bob-pw", sig())).rejects.toBeInstanceOf(
      ProviderUnavailableError,
    );
  });

  it("test() explains a wrong service bind password", async () => {
    const checks = await make(slapd, { bindPassword: "wrong" }).test(sig());
    expect(checks.map((c) => [c.step, c.ok])).toEqual([
      ["connect", true],
      ["service bind", false],
    ]);
    expect(checks[1]?.message).toMatch(/refused bindDN cn=gatehouse.*check both/);
  });

  it("test() passes every step on a good configuration", async () => {
    const checks = await make(slapd).test(sig());
    expect(checks.map((c) => [c.step, c.ok])).toEqual([
      ["connect", true],
      ["service bind", true],
      ["user search", true],
    ]);
  });

  it("test() explains a user search that finds no one", async () => {
    const checks = await make(slapd, {
      userSearch: { baseDN: `ou=groups,${BASE_DN}`, filter: "(objectClass=inetOrgPerson)" },
    }).test(sig());
    expect(checks[2]).toMatchObject({ step: "user search", ok: false });
    expect(checks[2]?.message).toMatch(/no entry under ou=groups/);
  });

  it("a wrong service bind password at sign-in is unavailable, not a wrong password", async () => {
    const e = await make(slapd, { bindPassword: "wrong" })
      .authenticate("alice", "alice-pw", sig())
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ProviderUnavailableError);
    expect((e as Error).message).toMatch(/refused the service account.*bindPassword/);
  });

  it("recheck: ok while the user exists, gone once deleted or filtered out", async () => {
    const p = make(slapd);
    const bob = await p.authenticate("bob", "bob-pw", sig());
    expect(bob).toBeDefined();
    if (!bob) return;
    expect(await p.recheck?.(bob, sig())).toEqual({ kind: "ok", identity: bob });
    // Filtered out (disabled-ish), then deleted.
    const { Change, Attribute } = await import("ldapts");
    await slapd.asRoot((c) =>
      c.modify(
        bob.subject,
        new Change({
          operation: "add",
          modification: new Attribute({ type: "employeeType", values: ["disabled"] }),
        }),
      ),
    );
    expect((await p.recheck?.(bob, sig()))?.kind).toBe("gone");
    await slapd.asRoot((c) => c.del(bob.subject));
    expect(await p.recheck?.(bob, sig())).toMatchObject({
      kind: "gone",
      reason: expect.stringMatching(/no longer in the directory/),
    });
  });

  it("slapd stopped: sign-in fails as unavailable and recheck says unavailable", async () => {
    const p = make(slapd);
    const alice = await p.authenticate("alice", "alice-pw", sig());
    await slapd.stop();
    try {
      const e = await p.authenticate("alice", "alice-pw", sig()).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(ProviderUnavailableError);
      expect((e as Error).message).toMatch(/connection refused/);
      expect((await p.recheck?.(alice as NonNullable<typeof alice>, sig()))?.kind).toBe("unavailable");
    } finally {
      await slapd.start();
    }
  });
});

describe("LDAP provider against a server that accepts and never answers", () => {
  let server: Server;
  let port: number;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    port = await freePort();
    server = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });

  it("fails as unavailable when the caller's deadline comes first, and recheck says unavailable", async () => {
    const p = ldapProviderFactory.create(
      { ...common(), timeoutMs: 5_000 },
      { url: `ldaps://127.0.0.1:${port}`, bindDN: "cn=x", bindPassword: "y", userSearch: { baseDN: "dc=x" } },
    ) as PasswordProvider;
    const e = await p.authenticate("alice", "pw", AbortSignal.timeout(300)).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ProviderUnavailableError);
    expect((e as Error).message).toMatch(/did not answer in time/);
    const who = { provider: "corp", subject: "uid=alice,dc=x", username: "alice", groups: [] };
    expect((await p.recheck?.(who, AbortSignal.timeout(300)))?.kind).toBe("unavailable");
  });

  it("fails as unavailable within the configured timeout", async () => {
    const p = ldapProviderFactory.create(
      { ...common(), timeoutMs: 500 },
      {
        url: `ldap://127.0.0.1:${port}`,
        insecurePlaintext: true,
        bindDN: "cn=x",
        bindPassword: "y",
        userSearch: { baseDN: "dc=x" },
      },
    ) as PasswordProvider;
    const e = await p.authenticate("alice", "pw", AbortSignal.timeout(10_000)).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ProviderUnavailableError);
    expect((e as Error).message).toMatch(/did not answer in time/);
  });
});

describe("Active Directory-shaped entries (sAMAccountName, userAccountControl) on slapd", () => {
  let slapd: TestSlapd;
  beforeAll(async () => {
    slapd = await startSlapd();
  });
  afterAll(async () => {
    await slapd?.destroy();
  });
  const ad = (s: TestSlapd): PasswordProvider =>
    make(s, {
      activeDirectory: true,
      nestedGroups: false,
      groupSearch: undefined,
      memberOfAttribute: "memberOf",
      userSearch: {
        baseDN: `ou=people,${BASE_DN}`,
        filter: "(objectClass=person)",
        usernameAttribute: "sAMAccountName",
      },
    });

  it("signs in an enabled account by sAMAccountName with its memberOf groups", async () => {
    const id = await ad(slapd).authenticate("judy", "judy-pw", sig());
    expect(id).toMatchObject({ username: "judy", groups: ["ldap:admins"] });
  });

  it("refuses an account with userAccountControl ACCOUNTDISABLE, even with the right password", async () => {
    expect(await ad(slapd).authenticate("ivan", "ivan-pw", sig())).toBeUndefined();
  });

  it("recheck: disabling the account ends the session", async () => {
    const p = ad(slapd);
    const judy = await p.authenticate("judy", "judy-pw", sig());
    expect(judy).toBeDefined();
    const { Change, Attribute } = await import("ldapts");
    await slapd.asRoot((c) =>
      c.modify(
        `cn=judy,ou=people,${BASE_DN}`,
        new Change({
          operation: "replace",
          modification: new Attribute({ type: "userAccountControl", values: ["514"] }),
        }),
      ),
    );
    expect(await p.recheck?.(judy as NonNullable<typeof judy>, sig())).toEqual({
      kind: "gone",
      reason: "disabled in the directory",
    });
  });
});
