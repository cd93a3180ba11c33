import { execFile } from "node:child_process";

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the real /usr/bin/kubectl; never throws on a non-zero exit (tests assert on it). */
export function kubectl(
  args: string[],
  opts: { input?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<KubectlResult> {
  return new Promise((resolve) => {
    const child = execFile(
      "kubectl",
      args,
      { env: { ...process.env, ...opts.env }, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const exited = typeof err?.code === "number";
        const code = err ? (exited ? (err.code as number) : 1) : 0;
        // Not an exit of kubectl's own (it could not start, was killed, or wrote too much): say so.
        const why = err && !exited ? `\n[kubectl did not exit by itself: ${err.message}]` : "";
        resolve({ code, stdout, stderr: stderr + why });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}
