/**
 * Authenticating one request: a Gatehouse access token (ES256 verify + cached session state + user lookup)
 * against the baseline, an access key (SHA-256 + store lookup), on SQLite, in the same run; plus the
 * cost of issuing a token and of a refresh. Run: npx tsx bench/identity.ts
 */
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { Store } from "../src/store/index.js";
import { KeyRing } from "../src/secrets/index.js";
import {
  ACCESS_KEY_KIND,
  accessKeyAuthenticator,
  createIssuer,
  issueKey,
  issuerOptions,
} from "../src/identity/index.js";
import { writeSection } from "./results.js";

const store = await Store.open({
  kind: "sqlite",
  path: join(mkdtempSync(join(tmpdir(), "gh-bench-id-")), "db"),
});
const now = Date.now();
await store.users.create({
  name: "alice",
  uid: randomUUID(),
  passwordHash: null,
  disabled: false,
  groups: ["dev"],
  createdAt: now,
  updatedAt: now,
});
const issuer = createIssuer(
  store,
  KeyRing.create([{ id: "k", key: randomBytes(32) }]),
  issuerOptions("https://gatehouse.example"),
  Date.now,
);
const key = issueKey("alice-key");
await store.objects.create(
  { kind: ACCESS_KEY_KIND, namespace: "", name: "alice-key" },
  randomUUID(),
  { spec: { user: "alice" }, secretHash: key.secretHash, status: {} },
  now,
);
const keys = accessKeyAuthenticator(store, Date.now);
const user = (await store.users.get("alice"))!;
const session = await issuer.sessions.start(user, "bench");

async function measure(
  name: string,
  n: number,
  f: () => Promise<unknown>,
): Promise<{ name: string; us: number }> {
  for (let i = 0; i < Math.min(200, n); i++) await f();
  const runs: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await f();
    runs.push(((performance.now() - t0) * 1000) / n);
  }
  runs.sort((a, b) => a - b);
  const us = runs[2] as number;
  console.log(`${name}: ${us.toFixed(1)} µs`);
  return { name, us };
}

/** Each token checked once: the full ES256 verification (kubectl's first request with a new token). */
async function firstUse(): Promise<{ name: string; us: number }> {
  const tokens: string[] = [];
  for (let i = 0; i < 3_000; i++) tokens.push((await issuer.sessions.start(user, "bench")).accessToken);
  const runs: number[] = [];
  for (let r = 0; r < 5; r++) {
    const slice = tokens.slice(r * 600, (r + 1) * 600);
    const t0 = performance.now();
    for (const t of slice)
      await issuer.authenticator.authenticate({ authorization: `Bearer ${t}` }, "127.0.0.1");
    runs.push(((performance.now() - t0) * 1000) / slice.length);
  }
  runs.sort((a, b) => a - b);
  const us = runs[2] as number;
  const name = "Gatehouse token, first use: ES256 verify + session check + user lookup";
  console.log(`${name}: ${us.toFixed(1)} µs`);
  return { name, us };
}

const tokenHeaders = { authorization: `Bearer ${session.accessToken}` };
const keyHeaders = { authorization: `Bearer ${key.token}` };
const results = [
  await measure("access key (baseline): SHA-256 + store lookup + user lookup", 5_000, () =>
    keys.authenticate(keyHeaders, "127.0.0.1"),
  ),
  await firstUse(),
  await measure("Gatehouse token, again: cached verification + session check + user lookup", 5_000, () =>
    issuer.authenticator.authenticate(tokenHeaders, "127.0.0.1"),
  ),
  await measure("issue a session (sign-in after the password check)", 500, () =>
    issuer.sessions.start(user, "bench"),
  ),
];
let refresh = (await issuer.sessions.start(user, "bench")).refreshToken;
results.push(
  await measure("refresh (rotate refresh token + sign)", 500, async () => {
    refresh = (await issuer.sessions.refresh(refresh)).refreshToken;
  }),
);
await store.close();

const base = results[0]!.us;
writeSection(
  "identity",
  `## Identity: authenticating a request, issuing and refreshing tokens

Command: \`npx tsx bench/identity.ts\` (machine: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}; SQLite; measured ${new Date().toISOString().slice(0, 10)}).
Median of 5 runs, sequential calls, in-process (no HTTP). The baseline is the access-key authenticator.

| operation | per call | vs. access key |
|---|---|---|
${results.map((r) => `| ${r.name} | ${r.us.toFixed(1)} µs | ${(r.us / base).toFixed(2)}× |`).join("\n")}

A verified token is remembered (by its SHA-256) until it expires, so kubectl's repeated requests skip the\nsignature check; the session state is cached for 2 s; the user is read on every check (so disabling a\nuser works at once), as the access key does.`,
);
