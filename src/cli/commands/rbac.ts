import type { Command } from "commander";
import type { Output } from "../io.js";

export function registerRbac(program: Command, _output: Output): void {
  program.command("rbac").description("(rbac commands)");
}
