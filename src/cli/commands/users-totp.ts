import type { Command } from "commander";
import { addServerOptions, type GatehouseClient, type ServerFlags } from "../client.js";
import { toYaml, type Output } from "../io.js";
import { outputOption } from "../program.js";

const BASE = "/apis/gatehouse.io/v1alpha1/users";

interface Enrollment {
  metadata: { name: string };
  secret: string;
  uri: string;
}

/** `gatehouse users totp enroll|disable NAME`: a local user's TOTP second factor (admin or self). */
export function registerUserTotp(
  users: Command,
  client: (f: ServerFlags) => GatehouseClient,
  output: Output,
): void {
  const totp = users
    .command("totp")
    .description("a local user's second factor: one-time codes from an authenticator app (RFC 6238)");

  addServerOptions(
    totp
      .command("enroll")
      .description(
        "enrol a local user (yourself, or anyone as an administrator): prints the secret and the otpauth:// URI once; from then on sign-in needs a one-time code",
      )
      .argument("<name>"),
  )
    .addOption(outputOption(["text", "json", "yaml"], "text"))
    .action(async (name: string, f: ServerFlags & { output: string }) => {
      const r = await client(f).call("POST", `${BASE}/${encodeURIComponent(name)}/totp`);
      const e = r.body as Enrollment;
      if (f.output === "json") return output.out(JSON.stringify(e, null, 2) + "\n");
      if (f.output === "yaml") return output.out(toYaml(e));
      output.out(
        `TOTP enrolled for ${name}. Add it to an authenticator app now; it is shown this once.\n\n` +
          `  URI:    ${e.uri}\n  secret: ${e.secret}\n\n` +
          "Sign-in now asks for the 6-digit code (gatehouse login prompts, or --totp-stdin).\n",
      );
    });

  addServerOptions(
    totp
      .command("disable")
      .description("remove a local user's TOTP enrolment (yourself, or anyone as an administrator)")
      .argument("<name>"),
  ).action(async (name: string, f: ServerFlags) => {
    await client(f).call("DELETE", `${BASE}/${encodeURIComponent(name)}/totp`);
    output.out(`user/${name} TOTP disabled\n`);
  });
}
