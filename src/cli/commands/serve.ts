import type { Command } from "commander";
import type { Output } from "../io.js";

export function registerServe(program: Command, _output: Output): void {
  program.command("serve").description("run the Gatehouse server");
}
