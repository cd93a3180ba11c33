import type { Command } from "commander";
import type { Output } from "../io.js";

export function registerAudit(program: Command, _output: Output): void {
  program.command("audit").description("(audit commands)");
}
