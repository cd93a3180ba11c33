import type { Command } from "commander";
import { addServerOptions, type GatehouseClient, type ServerFlags } from "../client.js";
import type { Output } from "../io.js";

const BASE = "/apis/gatehouse.io/v1alpha1/users";

/**
 * `gatehouse users disable|enable NAME`: a disabled user cannot sign in, every session they had is
 * ended, and their tokens and access keys are refused at the gateway from the next request on.
 */
export function registerUserDisable(
  users: Command,
  client: (f: ServerFlags) => GatehouseClient,
  output: Output,
): void {
  for (const [verb, disabled, description] of [
    [
      "disable",
      true,
      "disable a user: ends all their sessions; their tokens and access keys stop working at once",
    ],
    ["enable", false, "enable a disabled user again (they sign in anew; ended sessions stay ended)"],
  ] as const) {
    addServerOptions(users.command(verb).description(description).argument("<name>")).action(
      async (name: string, f: ServerFlags) => {
        await client(f).call("PATCH", `${BASE}/${encodeURIComponent(name)}`, {
          apiVersion: "gatehouse.io/v1alpha1",
          kind: "User",
          spec: { disabled },
        });
        output.out(`user/${name} ${verb}d\n`);
      },
    );
  }
}
