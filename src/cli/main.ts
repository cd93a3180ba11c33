#!/usr/bin/env node
import { buildProgram, commanderExit } from "./program.js";
import { CliError, NegativeAnswer } from "./errors.js";

/** The one top-level catch: the only place in Gatehouse that exits the process. */
async function main(): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(process.argv);
  } catch (e) {
    const code = commanderExit(e);
    if (code !== undefined) {
      process.exitCode = code;
      return;
    }
    if (e instanceof NegativeAnswer) {
      process.exitCode = 1;
      return;
    }
    if (e instanceof CliError) {
      process.stderr.write(`error: ${e.message}\n`);
      process.exitCode = e.exitCode;
      return;
    }
    process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  }
}

await main();
