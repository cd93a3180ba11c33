import type { Command } from "commander";
import { cacheDir, freshLogin } from "../../identity/client/index.js";
import type { Output } from "../io.js";
import { asCli, parseServer, writeContexts } from "./login.js";

/** Rewrite the kubeconfig contexts from an existing login (after clusters were added or granted). */
export function registerKubeconfig(program: Command, output: Output): void {
  program
    .command("kubeconfig")
    .description(
      "write or refresh the kubeconfig contexts for the clusters you can reach, from an existing login",
    )
    .requiredOption("--server <url>", "Gatehouse URL")
    .requiredOption("--user <name>", "the user signed in")
    .option("--kubeconfig <file>", "kubeconfig to write or merge (default: $KUBECONFIG, else ~/.kube/config)")
    .action(async (f: { server: string; user: string; kubeconfig?: string }) =>
      asCli(async () => {
        const login = await freshLogin(cacheDir(process.env), parseServer(f.server), f.user, Date.now);
        await writeContexts(login, f.kubeconfig, output);
      }),
    );
}
