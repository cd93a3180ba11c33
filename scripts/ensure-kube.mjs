#!/usr/bin/env node
// Builds the real kube-apiserver/kube-controller-manager test binary (test/harness/kube) from the
// Go module proxy when it is missing or its sources changed; reuses it otherwise. Prints progress,
// because a cold build takes about ten minutes on two cores.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { spawn, spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const src = join(root, "test/harness/kube");
export const KUBE_BINARY = join(root, ".cache/bin/kube-testcluster");
const stampFile = `${KUBE_BINARY}.stamp`;
const VERSION = "v1.37.2";

function sourceHash() {
  const h = createHash("sha256");
  for (const f of ["go.mod", "go.sum", "main.go"]) h.update(readFileSync(join(src, f)));
  return h.digest("hex");
}

export async function ensureKube({ quiet = false } = {}) {
  const want = sourceHash();
  if (existsSync(KUBE_BINARY) && existsSync(stampFile) && readFileSync(stampFile, "utf8") === want) {
    if (!quiet) console.log(`kube-testcluster ${VERSION}: up to date (${KUBE_BINARY})`);
    return KUBE_BINARY;
  }
  const go = spawnSync("go", ["version"], { encoding: "utf8" });
  if (go.status !== 0) {
    console.error(
      "error: Go is required to build the test clusters (kube-apiserver from the Go module proxy); install Go 1.26+",
    );
    process.exit(2);
  }
  console.log(
    `kube-testcluster ${VERSION}: building kube-apiserver, kube-controller-manager and etcd from Go modules`,
  );
  console.log(
    "  (about 10 minutes on a cold 2-core machine; later runs reuse the binary and Go's build cache)",
  );
  mkdirSync(dirname(KUBE_BINARY), { recursive: true });
  const pkg = "k8s.io/component-base/version";
  const ldflags = [
    "-s -w",
    `-X ${pkg}.gitVersion=${VERSION}`,
    `-X ${pkg}.gitMajor=1`,
    `-X ${pkg}.gitMinor=37`,
    `-X ${pkg}.gitTreeState=clean`,
    `-X ${pkg}.buildDate=2026-01-01T00:00:00Z`,
    `-X k8s.io/client-go/pkg/version.gitVersion=${VERSION}`,
  ].join(" ");
  const started = Date.now();
  const ticker = setInterval(
    () => console.log(`  ... still building (${Math.round((Date.now() - started) / 1000)}s)`),
    60_000,
  );
  const status = await new Promise((resolve) => {
    const child = spawn("go", ["build", "-trimpath", "-ldflags", ldflags, "-o", KUBE_BINARY, "."], {
      cwd: src,
      stdio: "inherit",
      env: { ...process.env, GOFLAGS: "-mod=mod" },
    });
    child.on("exit", (code) => resolve(code));
    child.on("error", () => resolve(1));
  });
  clearInterval(ticker);
  if (status !== 0) {
    console.error("error: building kube-testcluster failed (see Go's output above)");
    process.exit(1);
  }
  writeFileSync(stampFile, want);
  console.log(`kube-testcluster ${VERSION}: built in ${Math.round((Date.now() - started) / 1000)}s`);
  return KUBE_BINARY;
}

const kwokSrc = join(root, "test/harness/kwok");
export const KWOK_BINARY = join(root, ".cache/bin/kwok");
export const KWOK_STAGES_BINARY = join(root, ".cache/bin/kwok-stages");

/**
 * kwok (sigs.k8s.io/kwok, pinned in test/harness/kwok/go.mod) as fake nodes for the test clusters,
 * serving exec, attach, logs and port-forward; and kwok-stages, which prints kwok's own default
 * node and pod lifecycle stages. Built when missing or when the module changed.
 */
export async function ensureKwok({ quiet = false } = {}) {
  const h = createHash("sha256");
  for (const f of ["go.mod", "go.sum", "main.go", "tools.go"]) h.update(readFileSync(join(kwokSrc, f)));
  const want = h.digest("hex");
  const stamp = `${KWOK_BINARY}.stamp`;
  if (
    existsSync(KWOK_BINARY) &&
    existsSync(KWOK_STAGES_BINARY) &&
    existsSync(stamp) &&
    readFileSync(stamp, "utf8") === want
  ) {
    if (!quiet) console.log(`kwok: up to date (${KWOK_BINARY})`);
    return KWOK_BINARY;
  }
  console.log("kwok: building sigs.k8s.io/kwok from Go modules (about 4 minutes cold)");
  const started = Date.now();
  for (const args of [
    ["build", "-trimpath", "-o", KWOK_STAGES_BINARY, "."],
    ["build", "-trimpath", "-o", KWOK_BINARY, "sigs.k8s.io/kwok/cmd/kwok"],
  ]) {
    const status = await new Promise((resolve) => {
      const child = spawn("go", args, {
        cwd: kwokSrc,
        stdio: "inherit",
        env: { ...process.env, GOFLAGS: "-mod=mod" },
      });
      child.on("exit", (code) => resolve(code));
      child.on("error", () => resolve(1));
    });
    if (status !== 0) {
      console.error("error: building kwok failed (see Go's output above)");
      process.exit(1);
    }
  }
  writeFileSync(stamp, want);
  console.log(`kwok: built in ${Math.round((Date.now() - started) / 1000)}s`);
  return KWOK_BINARY;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await ensureKube();
  await ensureKwok();
}
