/**
 * A throwaway OpenLDAP server for the LDAP sign-in tests: Debian's slapd with a generated cn=config
 * (mdb backend, memberof + refint overlays), a CA and server certificate made with openssl, LDAPS on
 * one free port and ldap:// (with StartTLS) on another. slapd runs in the foreground as a child of the
 * test process, as the current user (no -u/-g: as root it simply stays root), and is killed on stop.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "ldapts";
import { freePort } from "./ports.js";

export const SLAPD = "/usr/sbin/slapd";
export const BASE_DN = "dc=example,dc=test";
export const ROOT_DN = `cn=admin,${BASE_DN}`;
const ROOT_PASSWORD = "root-secret";

export interface TestSlapd {
  ldapsUrl: string;
  /** ldap:// on its own port; StartTLS offered there. */
  ldapUrl: string;
  /** PEM of the CA that issued the server certificate. */
  caPem: string;
  /** PEM of an unrelated CA (for "wrong CA" tests). */
  otherCaPem: string;
  /** Service account for Gatehouse (read-only on the directory). */
  serviceDN: string;
  servicePassword: string;
  /** Run `fn` with a client bound as the directory's root (to change the directory in tests). */
  asRoot<T>(fn: (c: Client) => Promise<T>): Promise<T>;
  /** Stop slapd (SIGTERM, wait); `start()` again on the same ports and data. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Freeze slapd (SIGSTOP): connections are accepted by the kernel and never answered. */
  pause(): void;
  /** Thaw it (SIGCONT). */
  resume(): void;
  /** Stop and remove everything. */
  destroy(): Promise<void>;
}

export interface DirectoryUser {
  uid: string;
  cn: string;
  password: string;
  mail?: string;
  employeeType?: string;
}

/** The users of the default directory; each has password `<uid>-pw`. */
export const USERS: DirectoryUser[] = [
  { uid: "alice", cn: "Alice Liddell", password: "alice-pw", mail: "alice@example.test" },
  { uid: "bob", cn: "Bob Builder", password: "bob-pw", mail: "bob@example.test" },
  { uid: "carol", cn: "Carol Danvers", password: "carol-pw" },
  // Matches userSearch filters that exclude disabled people: "disabled-ish" (no AD flag here).
  { uid: "dave", cn: "Dave Disabled", password: "dave-pw", employeeType: "disabled" },
  // Characters that need escaping in filters and DNs.
  { uid: "o*brien", cn: "Eve (O'Brien), Jr.", password: "eve-pw" },
];

/**
 * Groups: developers ⊃ {alice}; admins ⊃ {bob}; platform ⊃ {developers} (nested); engineering ⊃
 * {platform}; a cycle: cycle-a ⊃ {cycle-b, carol}, cycle-b ⊃ {cycle-a}.
 */
function directory(): { dn: string; attrs: Record<string, string | string[]> }[] {
  const u = (uid: string): string => `uid=${uid.replace("*", "\\2a")},ou=people,${BASE_DN}`;
  const g = (cn: string): string => `cn=${cn},ou=groups,${BASE_DN}`;
  const group = (cn: string, members: string[]) => ({
    dn: g(cn),
    attrs: { objectClass: ["groupOfNames"], cn, member: members },
  });
  return [
    { dn: `ou=people,${BASE_DN}`, attrs: { objectClass: ["organizationalUnit"], ou: "people" } },
    { dn: `ou=groups,${BASE_DN}`, attrs: { objectClass: ["organizationalUnit"], ou: "groups" } },
    { dn: `ou=services,${BASE_DN}`, attrs: { objectClass: ["organizationalUnit"], ou: "services" } },
    {
      dn: `cn=gatehouse,ou=services,${BASE_DN}`,
      attrs: {
        objectClass: ["simpleSecurityObject", "organizationalRole"],
        cn: "gatehouse",
        userPassword: "service-pw",
      },
    },
    ...USERS.map((p) => ({
      dn: u(p.uid),
      attrs: {
        objectClass: ["inetOrgPerson"],
        uid: p.uid,
        cn: p.cn,
        sn: p.cn.split(" ").pop() ?? p.cn,
        userPassword: p.password,
        ...(p.mail ? { mail: p.mail } : {}),
        ...(p.employeeType ? { employeeType: p.employeeType } : {}),
      },
    })),
    // Active Directory-shaped people: sAMAccountName and userAccountControl (514 = 512 | ACCOUNTDISABLE).
    ...[
      { sam: "judy", uac: "512" },
      { sam: "ivan", uac: "514" },
    ].map(({ sam, uac }) => ({
      dn: `cn=${sam},ou=people,${BASE_DN}`,
      attrs: {
        objectClass: ["inetOrgPerson", "extensibleObject"],
        cn: sam,
        sn: sam,
        sAMAccountName: sam,
        userAccountControl: uac,
        userPassword: `${sam}-pw`,
      },
    })),
    group("developers", [u("alice")]),
    group("admins", [u("bob"), `cn=judy,ou=people,${BASE_DN}`]),
    group("platform", [g("developers")]),
    group("engineering", [g("platform")]),
    // A member must exist when added, so the cycle is closed after both exist (startSlapd).
    group("cycle-a", [u("carol")]),
    group("cycle-b", [g("cycle-a")]),
  ];
}

const run = (cmd: string, args: string[], input?: string): string =>
  execFileSync(cmd, args, { encoding: "utf8", stdio: ["pipe", "pipe", "pipe"], ...(input ? { input } : {}) });

function makeCerts(dir: string): { caPem: string; otherCaPem: string } {
  const ca = (name: string): void => {
    run("openssl", [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-days",
      "2",
      "-subj",
      `/CN=${name}`,
      "-keyout",
      join(dir, `${name}.key`),
      "-out",
      join(dir, `${name}.pem`),
    ]);
  };
  ca("test-ca");
  ca("other-ca");
  run("openssl", [
    "req",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-subj",
    "/CN=localhost",
    "-keyout",
    join(dir, "server.key"),
    "-out",
    join(dir, "server.csr"),
  ]);
  writeFileSync(
    join(dir, "ext.cnf"),
    "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
  );
  run("openssl", [
    "x509",
    "-req",
    "-in",
    join(dir, "server.csr"),
    "-CA",
    join(dir, "test-ca.pem"),
    "-CAkey",
    join(dir, "test-ca.key"),
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    join(dir, "ext.cnf"),
    "-out",
    join(dir, "server.pem"),
  ]);
  return {
    caPem: readFileSync(join(dir, "test-ca.pem"), "utf8"),
    otherCaPem: readFileSync(join(dir, "other-ca.pem"), "utf8"),
  };
}

function configLdif(dir: string): string {
  const rootHash = run("/usr/sbin/slappasswd", ["-s", ROOT_PASSWORD]).trim();
  const schemas = ["core", "cosine", "inetorgperson", "nis"]
    .map((s) => readFileSync(`/etc/ldap/schema/${s}.ldif`, "utf8"))
    .join("\n");
  // Two Active Directory attributes (with AD's OIDs) for AD-shaped users; Debian's msuser schema
  // would clash with the memberof overlay's memberOf.
  const adLite = `dn: cn=adlite,cn=schema,cn=config
objectClass: olcSchemaConfig
cn: adlite
olcAttributeTypes: ( 1.2.840.113556.1.4.221 NAME 'sAMAccountName' EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
olcAttributeTypes: ( 1.2.840.113556.1.4.8 NAME 'userAccountControl' EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
`;
  return `dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: ${join(dir, "slapd.pid")}
olcTLSCACertificateFile: ${join(dir, "test-ca.pem")}
olcTLSCertificateFile: ${join(dir, "server.pem")}
olcTLSCertificateKeyFile: ${join(dir, "server.key")}

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb
olcModuleLoad: memberof
olcModuleLoad: refint

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

${schemas}
${adLite}
dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend
olcSizeLimit: 500

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcAccess: {0}to * by * none

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcDbDirectory: ${join(dir, "data")}
olcSuffix: ${BASE_DN}
olcRootDN: ${ROOT_DN}
olcRootPW: ${rootHash}
olcDbMaxSize: 104857600
olcDbIndex: objectClass eq
olcDbIndex: uid eq
olcDbIndex: member eq
olcAccess: {0}to attrs=userPassword by anonymous auth by self write by * none
olcAccess: {1}to * by dn.exact="cn=gatehouse,ou=services,${BASE_DN}" read by self read by * none

dn: olcOverlay={0}memberof,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcMemberOf
olcOverlay: {0}memberof
olcMemberOfRefInt: TRUE

dn: olcOverlay={1}refint,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcRefintConfig
olcOverlay: {1}refint
olcRefintAttribute: member
`;
}

async function waitForPort(port: number, child: ChildProcess, logs: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`slapd exited (${child.exitCode}):\n${logs()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, "127.0.0.1");
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`slapd did not listen on ${port} within 15 s:\n${logs()}`);
}

/** Start slapd with the default directory (USERS and the groups above). */
export async function startSlapd(): Promise<TestSlapd> {
  if (!existsSync(SLAPD))
    throw new Error("slapd not found: install Debian's slapd and ldap-utils (scripts/test.mjs does this)");
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-slapd-"));
  mkdirSync(join(dir, "data"));
  mkdirSync(join(dir, "slapd.d"));
  const { caPem, otherCaPem } = makeCerts(dir);
  writeFileSync(join(dir, "config.ldif"), configLdif(dir));
  run("/usr/sbin/slapadd", ["-n0", "-F", join(dir, "slapd.d"), "-l", join(dir, "config.ldif")]);
  const ldapPort = await freePort();
  const ldapsPort = await freePort();
  const ldapUrl = `ldap://127.0.0.1:${ldapPort}`;
  const ldapsUrl = `ldaps://127.0.0.1:${ldapsPort}`;
  let child: ChildProcess | undefined;
  let out = "";

  const start = async (): Promise<void> => {
    out = "";
    const c = spawn(SLAPD, ["-d", "0", "-F", join(dir, "slapd.d"), "-h", `${ldapUrl}/ ${ldapsUrl}/`], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    c.stdout?.on("data", (d: Buffer) => (out += d.toString()));
    c.stderr?.on("data", (d: Buffer) => (out += d.toString()));
    child = c;
    await waitForPort(ldapPort, c, () => out);
    await waitForPort(ldapsPort, c, () => out);
  };
  const stop = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once("exit", () => resolve());
      c.kill("SIGTERM");
      setTimeout(() => c.kill("SIGKILL"), 5_000).unref();
    });
  };
  const asRoot = async <T>(fn: (c: Client) => Promise<T>): Promise<T> => {
    const c = new Client({ url: ldapsUrl, tlsOptions: { ca: caPem }, timeout: 5_000, connectTimeout: 5_000 });
    try {
      await c.bind(ROOT_DN, ROOT_PASSWORD);
      return await fn(c);
    } finally {
      await c.unbind().catch(() => undefined);
    }
  };

  await start();
  try {
    await asRoot(async (c) => {
      await c.add(BASE_DN, { objectClass: ["dcObject", "organization"], dc: "example", o: "Example" });
      for (const e of directory()) await c.add(e.dn, e.attrs);
      // Close the cycle: cycle-a ⊃ cycle-b ⊃ cycle-a.
      const { Change, Attribute } = await import("ldapts");
      await c.modify(
        `cn=cycle-a,ou=groups,${BASE_DN}`,
        new Change({
          operation: "add",
          modification: new Attribute({ type: "member", values: [`cn=cycle-b,ou=groups,${BASE_DN}`] }),
        }),
      );
    });
  } catch (e) {
    await stop();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    ldapUrl,
    ldapsUrl,
    caPem,
    otherCaPem,
    serviceDN: `cn=gatehouse,ou=services,${BASE_DN}`,
    servicePassword: "service-pw",
    asRoot,
    start,
    stop,
    pause: () => void child?.kill("SIGSTOP"),
    resume: () => void child?.kill("SIGCONT"),
    async destroy() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
