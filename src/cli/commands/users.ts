import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { addServerOptions, GatehouseClient, type ServerFlags } from "../client.js";
import { formatTable, toYaml, type Output } from "../io.js";
import { outputOption } from "../program.js";
import { registerUserTotp } from "./users-totp.js";
import { registerUserDisable } from "./users-disable.js";

const BASE = "/apis/gatehouse.io/v1alpha1/users";

interface UserObject {
  metadata: { name: string; creationTimestamp?: string };
  spec: { groups?: string[]; disabled?: boolean };
  status?: { hasPassword?: boolean };
}

export function registerUsers(program: Command, output: Output): void {
  const users = program
    .command("users")
    .description("manage Gatehouse users (local accounts and users seen from identity providers)");
  const client = (f: ServerFlags): GatehouseClient =>
    GatehouseClient.fromFlags(f, () => readFileSync(0, "utf8"), process.env);

  addServerOptions(users.command("list").description("list users"))
    .addOption(outputOption(["table", "json", "yaml"], "table"))
    .action(async (f: ServerFlags & { output: string }) => {
      const items: UserObject[] = [];
      let cont = "";
      do {
        const r = await client(f).call(
          "GET",
          `${BASE}?limit=200${cont ? `&continue=${encodeURIComponent(cont)}` : ""}`,
        );
        const list = r.body as { items: UserObject[]; metadata: { continue?: string } };
        items.push(...list.items);
        cont = list.metadata.continue ?? "";
      } while (cont !== "");
      print(
        output,
        f.output,
        { apiVersion: "gatehouse.io/v1alpha1", kind: "UserList", metadata: {}, items },
        items,
      );
    });

  addServerOptions(users.command("get").description("show one user").argument("<name>"))
    .addOption(outputOption(["table", "json", "yaml"], "table"))
    .action(async (name: string, f: ServerFlags & { output: string }) => {
      const r = await client(f).call("GET", `${BASE}/${encodeURIComponent(name)}`);
      print(output, f.output, r.body, [r.body as UserObject]);
    });

  addServerOptions(
    users
      .command("create")
      .description("create a local user; the new user's password is read from GATEHOUSE_NEW_PASSWORD")
      .argument("<name>"),
  )
    .option("--group <group...>", "groups the user belongs to")
    .action(async (name: string, f: ServerFlags & { group?: string[] }) => {
      const password = process.env["GATEHOUSE_NEW_PASSWORD"];
      await client(f).call("POST", BASE, {
        apiVersion: "gatehouse.io/v1alpha1",
        kind: "User",
        metadata: { name },
        spec: { groups: f.group ?? [], ...(password ? { password } : {}) },
      });
      output.out(`user/${name} created\n`);
    });

  registerUserTotp(users, client, output);
  registerUserDisable(users, client, output);

  addServerOptions(users.command("delete").description("delete a user").argument("<name>")).action(
    async (name: string, f: ServerFlags) => {
      await client(f).call("DELETE", `${BASE}/${encodeURIComponent(name)}`);
      output.out(`user/${name} deleted\n`);
    },
  );
}

function print(output: Output, format: string, whole: unknown, items: UserObject[]): void {
  if (format === "json") return output.out(JSON.stringify(whole, null, 2) + "\n");
  if (format === "yaml") return output.out(toYaml(whole));
  output.out(
    formatTable(
      ["NAME", "GROUPS", "DISABLED", "PASSWORD", "CREATED"],
      items.map((u) => [
        u.metadata.name,
        (u.spec.groups ?? []).join(",") || "<none>",
        String(u.spec.disabled ?? false),
        u.status?.hasPassword ? "set" : "none",
        u.metadata.creationTimestamp ?? "",
      ]),
    ),
  );
}
