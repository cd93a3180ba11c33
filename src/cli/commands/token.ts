import type { Command } from "commander";
import { cacheDir, freshLogin } from "../../identity/client/index.js";
import type { Output } from "../io.js";
import { asCli, parseServer } from "./login.js";

/**
 * The kubectl exec-credential plugin: prints a client.authentication.k8s.io/v1 ExecCredential with
 * the cached access token, refreshed silently when it is about to expire. Only the access token
 * leaves this process; the refresh token stays in the cache.
 */
export function registerToken(program: Command, output: Output): void {
  program
    .command("token")
    .description("print an ExecCredential for kubectl (the exec plugin that gatehouse login configures)")
    .requiredOption("--server <url>", "Gatehouse URL")
    .requiredOption("--user <name>", "the user signed in")
    .action(async (f: { server: string; user: string }) =>
      asCli(async () => {
        const login = await freshLogin(cacheDir(process.env), parseServer(f.server), f.user, Date.now);
        output.out(
          JSON.stringify({
            apiVersion: "client.authentication.k8s.io/v1",
            kind: "ExecCredential",
            status: { token: login.accessToken, expirationTimestamp: login.accessTokenExpiresAt },
          }) + "\n",
        );
      }),
    );
}
