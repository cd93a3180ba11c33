import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { addServerOptions, GatehouseClient, type ServerFlags } from "../client.js";
import { NegativeAnswer } from "../errors.js";
import { formatTable, toYaml, type Output } from "../io.js";
import { outputOption } from "../program.js";

const BASE = "/apis/gatehouse.io/v1alpha1/identityproviders";

interface ProviderObject {
  metadata: { name: string; creationTimestamp?: string };
  spec: { type: string; displayName?: string; disabled?: boolean; [k: string]: unknown };
}

interface TestResult {
  status: { ok: boolean; checks: { step: string; ok: boolean; message: string }[] };
}

const EXAMPLE = `
Identity providers are IdentityProvider objects; create or change them with gatehouse apply -f FILE:

  apiVersion: gatehouse.io/v1alpha1
  kind: IdentityProvider
  metadata: {name: corp}
  spec:
    type: oidc                     # oidc | oauth2 | github | ldap | saml
    displayName: Corp SSO          # the button on the sign-in page
    usernamePrefix: "corp:"        # oidc default: ISSUER#, unless usernameClaim is email; "-" for none
    groupsPrefix: "corp:"
    timeoutSeconds: 10
    oidc:
      issuer: https://sso.example.com
      clientId: gatehouse
      clientSecret: s3cret         # stored encrypted, shown as {sealed: true}
      usernameClaim: email
      groupsClaim: groups

See docs/identity.md for every type's fields.`;

/** `gatehouse idp`: list, show, test and delete identity providers (administrators). */
export function registerIdp(program: Command, output: Output): void {
  const idp = program
    .command("idp")
    .description("identity providers (OIDC, OAuth2, GitHub, LDAP, SAML): list, get, test, delete")
    .addHelpText("after", EXAMPLE);
  const client = (f: ServerFlags): GatehouseClient =>
    GatehouseClient.fromFlags(f, () => readFileSync(0, "utf8"), process.env);

  addServerOptions(idp.command("list").description("list identity providers"))
    .addOption(outputOption(["table", "json", "yaml"], "table"))
    .action(async (f: ServerFlags & { output: string }) => {
      const gh = client(f);
      const items: ProviderObject[] = [];
      let cont = "";
      do {
        const q = new URLSearchParams({ limit: "200" });
        if (cont) q.set("continue", cont);
        const r = await gh.call("GET", `${BASE}?${q.toString()}`);
        const list = r.body as { items: ProviderObject[]; metadata: { continue?: string } };
        items.push(...list.items);
        cont = list.metadata.continue ?? "";
      } while (cont !== "");
      const whole = {
        apiVersion: "gatehouse.io/v1alpha1",
        kind: "IdentityProviderList",
        metadata: {},
        items,
      };
      if (f.output === "json") return output.out(JSON.stringify(whole, null, 2) + "\n");
      if (f.output === "yaml") return output.out(toYaml(whole));
      output.out(
        formatTable(
          ["NAME", "TYPE", "DISPLAY NAME", "ENABLED", "CREATED"],
          items.map((p) => [
            p.metadata.name,
            p.spec.type,
            p.spec.displayName ?? p.metadata.name,
            p.spec.disabled === true ? "false" : "true",
            p.metadata.creationTimestamp ?? "",
          ]),
        ),
      );
    });

  addServerOptions(
    idp.command("get").description("show one identity provider (secrets are never shown)").argument("<name>"),
  )
    .addOption(outputOption(["yaml", "json"], "yaml"))
    .action(async (name: string, f: ServerFlags & { output: string }) => {
      const r = await client(f).call("GET", `${BASE}/${encodeURIComponent(name)}`);
      output.out(f.output === "json" ? JSON.stringify(r.body, null, 2) + "\n" : toYaml(r.body));
    });

  addServerOptions(
    idp
      .command("test")
      .description(
        "check an identity provider from the server (discovery, keys, binds, metadata); exit 1 when a check fails",
      )
      .argument("<name>"),
  )
    .addOption(outputOption(["text", "json", "yaml"], "text"))
    .action(async (name: string, f: ServerFlags & { output: string }) => {
      const r = await client(f).call("POST", `${BASE}/${encodeURIComponent(name)}/test`, {});
      const t = r.body as TestResult;
      if (f.output === "json") output.out(JSON.stringify(r.body, null, 2) + "\n");
      else if (f.output === "yaml") output.out(toYaml(r.body));
      else {
        for (const c of t.status.checks) output.out(`${c.ok ? "✓" : "✗"} ${c.step}: ${c.message}\n`);
        output.out(
          t.status.ok
            ? `identity provider ${name} is ready\n`
            : `identity provider ${name} has problems: fix the spec with gatehouse apply -f, then run gatehouse idp test ${name} again\n`,
        );
      }
      if (!t.status.ok) throw new NegativeAnswer();
    });

  addServerOptions(
    idp.command("delete").description("delete an identity provider").argument("<name>"),
  ).action(async (name: string, f: ServerFlags) => {
    await client(f).call("DELETE", `${BASE}/${encodeURIComponent(name)}`);
    output.out(`identityprovider/${name} deleted\n`);
  });
}
