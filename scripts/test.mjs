#!/usr/bin/env node
// `npm test`: everything CI runs, in the order that fails fastest.
//   1. installs what the tests need and is missing (Debian's PostgreSQL server binaries), builds the
//      real Kubernetes test clusters from the Go module proxy (reused when already built),
//   2. format check, lint, typecheck,
//   3. every test (unit, data layer on SQLite and PostgreSQL, real clusters with the real kubectl).
// Extra arguments go to vitest, e.g. `npm test -- test/store`.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { ensureKube, ensureKwok } from "./ensure-kube.mjs";

const extra = process.argv.slice(2);

function step(name, cmd, args, opts = {}) {
  const started = Date.now();
  console.log(`\n== ${name}`);
  const r = spawnSync(cmd, args, { stdio: "inherit", ...opts });
  if (r.status !== 0) {
    console.error(
      `\n== ${name}: FAILED (exit ${r.status ?? r.signal}) after ${((Date.now() - started) / 1000).toFixed(1)}s`,
    );
    process.exit(r.status ?? 1);
  }
  console.log(`== ${name}: ok (${((Date.now() - started) / 1000).toFixed(1)}s)`);
}

function have(bin) {
  return spawnSync("sh", ["-c", `command -v ${bin}`], { stdio: "ignore" }).status === 0;
}

/** Whether PHP's CLI has an extension (false without PHP). */
function hasPhpModule(name) {
  return (
    spawnSync("php", ["-r", `exit(extension_loaded("${name}") ? 0 : 1);`], { stdio: "ignore" }).status === 0
  );
}

function ensureDebianPackages() {
  const needed = [];
  const pgBins = [
    "/usr/lib/postgresql/15/bin/postgres",
    "/usr/lib/postgresql/16/bin/postgres",
    "/usr/lib/postgresql/17/bin/postgres",
  ];
  if (!pgBins.some((p) => existsSync(p))) needed.push("postgresql");
  // Headless browser for the OIDC sign-in tests (test/identity-oidc, driven with playwright-core).
  if (!existsSync("/usr/bin/chromium")) needed.push("chromium");
  // OpenLDAP for the LDAP sign-in tests (test/identity-ldap, started by test/harness/slapd.ts).
  if (!existsSync("/usr/sbin/slapd")) needed.push("slapd");
  if (!have("ldapsearch")) needed.push("ldap-utils");
  // SimpleSAMLphp as the SAML IdP (test/identity-saml, served by "php -S" from test/harness/simplesamlphp.ts).
  if (!existsSync("/usr/share/simplesamlphp/www/saml2/idp/SSOService.php")) needed.push("simplesamlphp");
  if (!have("php")) needed.push("php-cli");
  // Reads TCP_NODELAY of the gateway's sockets from the kernel (test/harness/tcp-sockets.py).
  if (!have("python3")) needed.push("python3");
  if (!hasPhpModule("dom")) needed.push("php-xml");
  if (!hasPhpModule("mbstring")) needed.push("php-mbstring");
  if (!have("kubectl")) {
    console.error("error: kubectl is required on PATH for the end-to-end tests");
    process.exit(2);
  }
  if (needed.length === 0) return;
  if (process.getuid?.() !== 0) {
    console.error(
      `error: missing Debian packages: ${needed.join(" ")}; install them (apt-get install ${needed.join(" ")}) and run again`,
    );
    process.exit(2);
  }
  console.log(`installing Debian packages: ${needed.join(" ")}`);
  step("apt-get update", "apt-get", ["update", "-qq"]);
  step(
    `apt-get install ${needed.join(" ")}`,
    "apt-get",
    ["install", "-y", "-qq", "--no-install-recommends", ...needed],
    {
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    },
  );
}

const t0 = Date.now();
ensureDebianPackages();
await ensureKube();
await ensureKwok();
const bin = "node_modules/.bin/";
if (extra.length === 0) {
  step("format (prettier --check)", `${bin}prettier`, ["--check", "--log-level", "warn", "."]);
  step("lint (eslint)", `${bin}eslint`, ["."]);
  step("typecheck (tsc)", `${bin}tsc`, ["-p", "tsconfig.json", "--noEmit"]);
}
step("tests (vitest)", `${bin}vitest`, ["run", ...extra]);
console.log(`\nall checks passed in ${((Date.now() - t0) / 1000).toFixed(0)}s`);
