import { spawn } from "node:child_process";
import { readFileSync, realpathSync } from "node:fs";
import { hostname } from "node:os";
import { Option, type Command } from "commander";
import {
  cacheDir,
  browserLogin,
  CacheError,
  deleteCache,
  deviceLogin,
  kubeconfigPath,
  listCache,
  LoginError,
  mergeLogin,
  myClusters,
  normaliseServer,
  passwordLogin,
  readKubeconfig,
  serverLogout,
  TotpRequiredError,
  TransportError,
  writeKubeconfig,
  type CachedLogin,
} from "../../identity/client/index.js";
import { CliError } from "../errors.js";
import type { Output } from "../io.js";

/** Turn the client's errors into CLI errors with their exit codes; secrets never appear in them. */
export async function asCli<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof LoginError) throw new CliError(e.message, e.exit);
    if (e instanceof TransportError) throw new CliError(`${e.message}; is the server running?`, 3);
    if (e instanceof CacheError) throw new CliError(e.message, 3);
    throw e;
  }
}

export function parseServer(s: string): string {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    throw new CliError(`not a URL: ${s}`);
  }
  if (u.protocol !== "https:") throw new CliError("Gatehouse is only reached over https://");
  return normaliseServer(s);
}

/** How kubectl runs this same program: absolute paths, so it works without gatehouse on PATH. */
export function execCommand(): { command: string; args: string[] } {
  const script = process.argv[1];
  return script
    ? { command: process.execPath, args: [realpathSync(script)] }
    : { command: "gatehouse", args: [] };
}

/** Write the kubeconfig entries for a login: a context per cluster the user can reach. */
export async function writeContexts(
  login: CachedLogin,
  flag: string | undefined,
  output: Output,
): Promise<void> {
  const clusters = await myClusters(login);
  const path = kubeconfigPath(flag, process.env);
  let existing: Record<string, unknown>;
  try {
    existing = readKubeconfig(path);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  writeKubeconfig(
    path,
    mergeLogin(existing, {
      server: login.server,
      user: login.user,
      ...(login.caPem ? { caPem: login.caPem } : {}),
      ...(login.insecureSkipTlsVerify ? { insecureSkipTlsVerify: true } : {}),
      clusters,
      exec: execCommand(),
    }),
  );
  output.err(
    clusters.length === 0
      ? `no clusters are visible to ${login.user} yet; run gatehouse kubeconfig later\n`
      : `wrote ${clusters.length} context(s) to ${path}: ${clusters.join(", ")}\n`,
  );
}

/** Best effort: the platform's opener, detached; the address is printed anyway. */
function openBrowser(url: string): void {
  const [cmd, args] =
    process.platform === "darwin"
      ? ["open", [url]]
      : process.platform === "win32"
        ? ["cmd", ["/c", "start", "", url]]
        : ["xdg-open", [url]];
  try {
    const child = spawn(cmd, args, { detached: true, stdio: "ignore" });
    child.on("error", () => undefined);
    child.unref();
  } catch {
    // no opener: the printed address is enough
  }
}

/** Read a password (or a one-time code) from the terminal without echoing it. */
async function promptPassword(output: Output, prompt = "Password: "): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) throw new CliError("no password: use --password-stdin, GATEHOUSE_PASSWORD or a terminal");
  output.err(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  let pw = "";
  try {
    await new Promise<void>((resolve, reject) => {
      const onData = (d: Buffer): void => {
        for (const ch of d.toString("utf8")) {
          if (ch === "\r" || ch === "\n") return done(resolve);
          if (ch === "\u0003") return done(() => reject(new CliError("interrupted")));
          if (ch === "\u007f") pw = pw.slice(0, -1);
          else pw += ch;
        }
      };
      const done = (f: () => void): void => {
        stdin.off("data", onData);
        f();
      };
      stdin.on("data", onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    output.err("\n");
  }
  return pw;
}

interface LoginFlags {
  deviceCode?: boolean;
  /** false with --no-browser. */
  browser?: boolean;
  username?: string;
  passwordStdin?: boolean;
  provider?: string;
  totpStdin?: boolean;
  certificateAuthority?: string;
  insecureSkipTlsVerify?: boolean;
  kubeconfig?: string;
}

export function registerLogin(program: Command, output: Output): void {
  program
    .command("login")
    .description(
      "sign in to Gatehouse (in a browser; with --device-code; or with --username and a password), cache the tokens and write a kubeconfig context per cluster you can reach",
    )
    .argument("<server>", "Gatehouse URL, https://HOST[:PORT]")
    .option("--device-code", "sign in on another device's browser with a one-time code (RFC 8628)")
    .option("--no-browser", "do not open a browser for the browser sign-in; only print its address")
    .addOption(new Option("--username <name>", "user to sign in as").env("GATEHOUSE_USERNAME"))
    .option(
      "--password-stdin",
      "read the password from standard input (else $GATEHOUSE_PASSWORD, else a prompt)",
    )
    .addOption(
      new Option(
        "--provider <name>",
        "with --username: the LDAP / Active Directory identity provider that checks the password (default: a local user)",
      ).env("GATEHOUSE_PROVIDER"),
    )
    .option(
      "--totp-stdin",
      "read the one-time code of a local user with TOTP from standard input (after the password's line with --password-stdin; else a prompt)",
    )
    .addOption(
      new Option("--certificate-authority <file>", "CA certificate that signed Gatehouse's certificate").env(
        "GATEHOUSE_CA",
      ),
    )
    .option("--insecure-skip-tls-verify", "do not verify Gatehouse's certificate (unsafe)")
    .option("--kubeconfig <file>", "kubeconfig to write or merge (default: $KUBECONFIG, else ~/.kube/config)")
    .action(async (serverArg: string, f: LoginFlags) =>
      asCli(async () => {
        const server = parseServer(serverArg);
        let caPem: string | undefined;
        if (f.certificateAuthority) {
          try {
            caPem = readFileSync(f.certificateAuthority, "utf8");
          } catch (e) {
            throw new CliError(
              `--certificate-authority: cannot read ${f.certificateAuthority}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
            );
          }
        }
        const ep = {
          server,
          ...(caPem ? { caPem } : {}),
          ...(f.insecureSkipTlsVerify ? { insecureSkipTlsVerify: true } : {}),
        };
        const client = `gatehouse-cli@${hostname()}`;
        if (f.deviceCode) {
          const login = await deviceLogin(
            ep,
            cacheDir(process.env),
            client,
            (uri, code, complete) =>
              output.err(`To sign in, open ${uri} and enter the code ${code}\n(or open ${complete})\n`),
            (ms) => new Promise((r) => setTimeout(r, ms)),
          );
          output.err(`signed in to ${server} as ${login.user}\n`);
          return writeContexts(login, f.kubeconfig, output);
        }
        if (!f.username) {
          const login = await browserLogin(ep, cacheDir(process.env), (url) => {
            output.err(`To sign in, open this address in your browser:\n  ${url}\n`);
            if (f.browser !== false) openBrowser(url);
          });
          output.err(`signed in to ${server} as ${login.user}\n`);
          return writeContexts(login, f.kubeconfig, output);
        }
        // With both --password-stdin and --totp-stdin, standard input holds the password's line, then the code's.
        const stdinLines = f.passwordStdin || f.totpStdin ? readFileSync(0, "utf8").split(/\r?\n/) : [];
        const password = f.passwordStdin
          ? (stdinLines.shift() ?? "")
          : (process.env["GATEHOUSE_PASSWORD"] ?? (await promptPassword(output)));
        if (password === "") throw new CliError("empty password");
        const totp = f.totpStdin ? (stdinLines.shift() ?? "").trim() : undefined;
        if (totp === "") throw new CliError("--totp-stdin: no one-time code on standard input");
        const extra = { ...(f.provider ? { provider: f.provider } : {}), ...(totp ? { totp } : {}) };
        const signIn = (x: typeof extra) =>
          passwordLogin(ep, cacheDir(process.env), f.username as string, password, client, x);
        let login: CachedLogin;
        try {
          login = await signIn(extra);
        } catch (e) {
          if (!(e instanceof TotpRequiredError) || totp !== undefined) throw e;
          if (!process.stdin.isTTY)
            throw new CliError(`${f.username} signs in with a one-time code too: pass it with --totp-stdin`);
          login = await signIn({ ...extra, totp: (await promptPassword(output, "One-time code: ")).trim() });
        }
        output.err(
          `signed in to ${server} as ${f.username}${f.provider ? ` (through ${f.provider})` : ""}\n`,
        );
        await writeContexts(login, f.kubeconfig, output);
      }),
    );

  program
    .command("logout")
    .description("end the session on the server and remove the cached tokens")
    .argument("<server>", "Gatehouse URL")
    .option("--username <name>", "the user signed in (needed only when several are signed in there)")
    .addOption(new Option("--user <name>", "same as --username").hideHelp())
    .action(async (serverArg: string, f: { user?: string; username?: string }) =>
      asCli(async () => {
        const server = parseServer(serverArg);
        const dir = cacheDir(process.env);
        const logins = listCache(dir).filter(
          (c) => c.server === server && (!(f.username ?? f.user) || c.user === (f.username ?? f.user)),
        );
        if (logins.length === 0) {
          const who = (f.username ?? f.user) ? ` as ${f.username ?? f.user}` : "";
          output.err(`not logged in to ${server}${who}\n`);
          return;
        }
        if (logins.length > 1)
          throw new CliError(
            `several users are signed in to ${server} (${logins.map((c) => c.user).join(", ")}): pass --username`,
          );
        const cached = logins[0] as CachedLogin;
        try {
          await serverLogout(cached);
        } finally {
          // The local copy goes even when the server cannot be told: it is ours to forget.
          deleteCache(dir, server, cached.user);
        }
        output.err(`logged out of ${server}\n`);
      }),
    );
}
