import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** The built command line (global setup builds it), run with this Node.js. */
const NODE = process.execPath;
const MAIN = `${ROOT}dist/src/cli/main.js`;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run the real `gatehouse` command line in a child process, as a user would. */
export function gatehouse(
  args: string[],
  opts: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(NODE, [MAIN, ...args], {
      env: { ...process.env, ...opts.env },
      cwd: opts.cwd ?? ROOT,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(opts.input ?? "");
  });
}

/** Start a long-running `gatehouse` command and wait until its stderr matches `ready`. */
export function startGatehouseProcess(
  args: string[],
  ready: RegExp,
  opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<{ child: ChildProcess; stderr: () => string; match: RegExpMatchArray }> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [MAIN, ...args], {
      env: { ...process.env, ...opts.env },
      cwd: opts.cwd ?? ROOT,
    });
    let stderr = "";
    const timer = setTimeout(() => reject(new Error(`not ready in 30s; stderr:\n${stderr}`)), 30_000);
    child.stdout?.resume();
    child.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
      const m = stderr.match(ready);
      if (m) {
        clearTimeout(timer);
        resolve({ child, stderr: () => stderr, match: m });
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before ready; stderr:\n${stderr}`));
    });
  });
}

/**
 * `gatehouse login SERVER --no-browser`, as a person starts it: resolves with the /authorize URL the
 * CLI prints for the browser; `exit` settles with the CLI's exit code once the sign-in ends.
 */
export async function startBrowserLogin(
  server: string,
  ca: string,
  kubeconfig: string,
  env: NodeJS.ProcessEnv,
): Promise<{ authorizeUrl: string; exit: Promise<number | null>; stderr: () => string }> {
  const p = await startGatehouseProcess(
    ["login", server, "--no-browser", "--certificate-authority", ca, "--kubeconfig", kubeconfig],
    /(https:\/\/\S+\/authorize\?\S+)/,
    { env },
  );
  const exit = new Promise<number | null>((resolve) => p.child.on("exit", (code) => resolve(code)));
  return { authorizeUrl: p.match[1] as string, exit, stderr: p.stderr };
}

export interface ServedGatehouse {
  child: ChildProcess;
  url: string;
  caFile: string;
  dataDir: string;
  /** The admin's one-time password, as printed on first start. */
  password: string;
  /** The flags that connect the CLI to this server as the admin (password from stdin). */
  conn(): string[];
  stop(): void;
}

/** `gatehouse serve` on a free port with a fresh data directory, as the CLI tests and benchmarks use it. */
export async function serveGatehouse(extraArgs: string[] = []): Promise<ServedGatehouse> {
  const { mkdtempSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-cli-"));
  const s = await startGatehouseProcess(
    ["serve", "--listen", "127.0.0.1:0", "--data-dir", dir, "--log-level", "warn", ...extraArgs],
    /serving on (https:\/\/\S+) \(CA certificate: (\S+)\)/,
  );
  const url = s.match[1] as string;
  const caFile = s.match[2] as string;
  const password = (s.stderr().match(/keep it safe:\s+(\S+)/) as RegExpMatchArray)[1] as string;
  return {
    child: s.child,
    url,
    caFile,
    dataDir: dir,
    password,
    conn: () => [
      "--server",
      url,
      "--username",
      "admin",
      "--password-stdin",
      "--certificate-authority",
      caFile,
    ],
    stop: () => void s.child.kill("SIGTERM"),
  };
}
