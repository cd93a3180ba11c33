import { Command, CommanderError, Option } from "commander";
import { CliError } from "./errors.js";
import { processOutput, type Output } from "./io.js";
import { registerCommands } from "./commands/index.js";
import { VERSION } from "../version.js";

/** Build the command tree. Commands throw CliError/NegativeAnswer; only main.ts exits. */
export function buildProgram(output: Output = processOutput): Command {
  const program = new Command("gatehouse")
    .description(
      "One place to control who may do what on all your Kubernetes clusters:\n" +
        "single sign-on, an authorizing API gateway, central RBAC, audit and tenant isolation.",
    )
    .version(VERSION, "--version", "print the Gatehouse version")
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({ writeOut: (s) => output.out(s), writeErr: (s) => output.err(s) });
  registerCommands(program, output);
  applyToAll(program, (c) => {
    c.exitOverride();
    c.configureOutput({ writeOut: (s) => output.out(s), writeErr: (s) => output.err(s) });
  });
  return program;
}

function applyToAll(c: Command, f: (c: Command) => void): void {
  f(c);
  for (const sub of c.commands) applyToAll(sub, f);
}

/** Commander signals help and version by throwing; everything else it throws is a usage error. */
export function commanderExit(e: unknown): number | undefined {
  if (!(e instanceof CommanderError)) return undefined;
  if (e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.code === "commander.help")
    return 0;
  return 2;
}

/** An -o/--output option with the formats a command supports. */
export function outputOption(formats: readonly string[], dflt: string): Option {
  return new Option("-o, --output <format>", `output format: ${formats.join("|")}`)
    .choices([...formats])
    .default(dflt);
}

export { CliError };
