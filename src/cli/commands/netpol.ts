import type { Command } from "commander";
import type { Output } from "../io.js";

export function registerNetpol(program: Command, _output: Output): void {
  program.command("netpol").description("(netpol commands)");
}
