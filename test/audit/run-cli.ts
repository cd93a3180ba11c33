/**
 * Run the gatehouse CLI in-process with captured output, mapping errors to exit codes as
 * src/cli/main.ts does. audit2rbac is registered here when src/cli/commands/index.ts does not
 * register it yet, so these tests run before and after it is wired in.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { buildProgram, commanderExit } from "../../src/cli/program.js";
import { registerAudit2rbac } from "../../src/cli/commands/audit2rbac.js";
import { CliError, NegativeAnswer } from "../../src/cli/errors.js";
import type { Output } from "../../src/cli/io.js";

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

export async function runCli(args: readonly string[]): Promise<CliResult> {
  let out = "";
  let err = "";
  const output: Output = { out: (t) => void (out += t), err: (t) => void (err += t) };
  const program = buildProgram(output);
  if (!program.commands.some((c) => c.name() === "audit2rbac")) {
    registerAudit2rbac(program, output);
    const added = program.commands.find((c) => c.name() === "audit2rbac");
    added?.exitOverride().configureOutput({ writeOut: output.out, writeErr: output.err });
  }
  let code = 0;
  try {
    await program.parseAsync(["node", "gatehouse", ...args]);
  } catch (e) {
    const c = commanderExit(e);
    if (c !== undefined) code = c;
    else if (e instanceof NegativeAnswer) code = 1;
    else if (e instanceof CliError) {
      err += `error: ${e.message}\n`;
      code = e.exitCode;
    } else throw e;
  }
  return { code, out, err };
}

export const REPO = fileURLToPath(new URL("../../", import.meta.url));

/** Run the real entry point in a child process (for exit codes and standard input). */
export function spawnCli(args: readonly string[], input?: string): CliResult {
  const r = spawnSync(process.execPath, ["dist/src/cli/main.js", ...args], {
    cwd: REPO,
    input: input ?? "",
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}
