/**
 * An LDAP sign-in against a real OpenLDAP slapd (test/harness/slapd.ts): connect (LDAPS or StartTLS),
 * service bind, user search, user bind, group search (direct, and nested: a breadth-first walk of
 * three levels), as PasswordProvider.authenticate does it; plus the session-refresh recheck.
 * Run: npx tsx bench/ldap.ts
 */
import { cpus } from "node:os";
import { ldapProviderFactory } from "../src/identity/providers/ldap/index.js";
import type { PasswordProvider } from "../src/identity/providers/types.js";
import { BASE_DN, startSlapd } from "../test/harness/slapd.js";
import { writeSection } from "./results.js";

const N = 200;
const slapd = await startSlapd();
const common = { name: "corp", displayName: "corp", usernamePrefix: "", groupsPrefix: "", timeoutMs: 5_000 };
const provider = (over: Record<string, unknown>): PasswordProvider =>
  ldapProviderFactory.create(common, {
    url: slapd.ldapsUrl,
    caData: slapd.caPem,
    bindDN: slapd.serviceDN,
    bindPassword: slapd.servicePassword,
    userSearch: { baseDN: `ou=people,${BASE_DN}`, usernameAttribute: "uid" },
    groupSearch: { baseDN: `ou=groups,${BASE_DN}`, filter: "(objectClass=groupOfNames)" },
    ...over,
  }) as PasswordProvider;

async function measure(
  name: string,
  f: () => Promise<unknown>,
): Promise<{ name: string; p50: number; p95: number }> {
  for (let i = 0; i < 10; i++) await f();
  const t: number[] = [];
  for (let i = 0; i < N; i++) {
    const s = process.hrtime.bigint();
    await f();
    t.push(Number(process.hrtime.bigint() - s) / 1e6);
  }
  t.sort((a, b) => a - b);
  return { name, p50: t[Math.floor(N / 2)] as number, p95: t[Math.floor(N * 0.95)] as number };
}

const sig = (): AbortSignal => AbortSignal.timeout(10_000);
const ldaps = provider({ nestedGroups: false });
const nested = provider({ nestedGroups: true });
const starttls = provider({ url: slapd.ldapUrl, caData: slapd.caPem, startTLS: true, nestedGroups: true });
const alice = await nested.authenticate("alice", "alice-pw", sig());
const results = [
  await measure("LDAPS, direct groups", () => ldaps.authenticate("alice", "alice-pw", sig())),
  await measure("LDAPS, nested groups (3 levels)", () => nested.authenticate("alice", "alice-pw", sig())),
  await measure("StartTLS, nested groups", () => starttls.authenticate("alice", "alice-pw", sig())),
  await measure("wrong password (LDAPS)", () => ldaps.authenticate("alice", "wrong", sig())),
  await measure(
    "recheck at refresh (nested)",
    () => nested.recheck?.(alice as NonNullable<typeof alice>, sig()) ?? Promise.resolve(),
  ),
];
await slapd.destroy();

writeSection(
  "ldap",
  `## LDAP sign-in against OpenLDAP slapd

Command: \`npx tsx bench/ldap.ts\` (machine: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, shared with other work; slapd 2.5 on loopback; measured ${new Date().toISOString().slice(0, 10)}).
${N} sequential calls of the provider (no HTTP, no throttle, no store), after 10 warm-up calls. Each call opens a new
TLS connection (a fresh handshake: no pooling, so a password never rides on a connection another bind left behind).

| operation | p50 | p95 |
|---|---|---|
${results.map((r) => `| ${r.name} | ${r.p50.toFixed(1)} ms | ${r.p95.toFixed(1)} ms |`).join("\n")}
`,
);
console.log(results);
