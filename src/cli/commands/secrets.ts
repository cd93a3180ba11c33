import { readFileSync } from "node:fs";
import type { Command } from "commander";
import type { ReencryptResult } from "../../secrets/index.js";
import { addServerOptions, GatehouseClient, type ServerFlags } from "../client.js";
import { NegativeAnswer } from "../errors.js";
import { toYaml, type Output } from "../io.js";
import { outputOption } from "../program.js";

/** `gatehouse secrets`: operations on the secrets Gatehouse stores encrypted (cluster credentials). */
export function registerSecrets(program: Command, output: Output): void {
  const secrets = program
    .command("secrets")
    .description("manage the encryption of stored secrets (cluster credentials)");

  addServerOptions(
    secrets
      .command("reencrypt")
      .description(
        "rewrite every stored secret under the primary (first) encryption key; afterwards old keys can be removed",
      ),
  )
    .addOption(outputOption(["text", "json", "yaml"], "text"))
    .action(async (f: ServerFlags & { output: string }) => {
      const gh = GatehouseClient.fromFlags(f, () => readFileSync(0, "utf8"), process.env);
      const r = await gh.call("POST", "/apis/gatehouse.io/v1alpha1/reencryptions", {
        apiVersion: "gatehouse.io/v1alpha1",
        kind: "Reencryption",
      });
      const status = (r.body as { status: ReencryptResult }).status;
      if (f.output === "json") output.out(JSON.stringify(r.body, null, 2) + "\n");
      else if (f.output === "yaml") output.out(toYaml(r.body));
      else
        output.out(
          `re-encrypted ${status.rewritten} secret(s) under key ${status.primaryKeyId}; ${status.current} already were\n`,
        );
      if (status.failed.length > 0) {
        for (const x of status.failed) output.err(`error: ${x.kind}/${x.name}: ${x.message}\n`);
        output.err("keep the old keys until every secret is re-encrypted\n");
        throw new NegativeAnswer();
      }
    });
}
