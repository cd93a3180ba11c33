import { readFileSync } from "node:fs";
import { request } from "node:https";
import { Option, type Command } from "commander";
import { CliError } from "./errors.js";
import {
  cacheDir,
  CacheError,
  freshLogin,
  listCache,
  LoginError,
  type CachedLogin,
} from "../identity/client/index.js";

export interface ServerFlags {
  server?: string;
  username?: string;
  passwordStdin?: boolean;
  certificateAuthority?: string;
  insecureSkipTlsVerify?: boolean;
}

/** The flags every command that talks to a Gatehouse server takes. */
export function addServerOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option("--server <url>", "Gatehouse server URL").env("GATEHOUSE_SERVER"))
    .addOption(new Option("--username <name>", "local user to sign in as").env("GATEHOUSE_USERNAME"))
    .option("--password-stdin", "read the password from standard input (else $GATEHOUSE_PASSWORD)")
    .addOption(
      new Option("--certificate-authority <file>", "CA certificate that signed the server's certificate").env(
        "GATEHOUSE_CA",
      ),
    )
    .option("--insecure-skip-tls-verify", "do not verify the server's certificate (unsafe)");
}

export interface ApiReply {
  status: number;
  body: unknown;
}

/**
 * The one login in the token cache that matches the flags: the server and user when given, else the
 * only login there is. Several matches are an error that lists them, never a guess.
 */
function cachedLogin(dir: string, server: URL | undefined, user: string | undefined): CachedLogin {
  let all: CachedLogin[];
  try {
    all = listCache(dir);
  } catch (e) {
    throw new CliError(`cannot read the token cache ${dir}: ${(e as Error).message}`);
  }
  const matches = all.filter((c) => (!server || c.server === server.origin) && (!user || c.user === user));
  const who = `${user ? ` as ${user}` : ""}`;
  if (matches.length === 0) {
    if (!server)
      throw new CliError(
        "no server given: pass --server https://HOST:PORT or set GATEHOUSE_SERVER (or sign in first with gatehouse login URL)",
      );
    throw new CliError(
      `not logged in to ${server.origin}${who}: run gatehouse login ${server.origin}, or pass --username with --password-stdin`,
    );
  }
  if (matches.length > 1)
    throw new CliError(
      `several logins match (${matches.map((c) => `${c.user} at ${c.server}`).join(", ")}): pass --server and --username to choose`,
    );
  return matches[0] as CachedLogin;
}

/** A client of the management API: a local user's password, or the token of a `gatehouse login`. */
export class GatehouseClient {
  private constructor(
    private readonly base: URL,
    private readonly auth: () => Promise<string>,
    private readonly ca: Buffer | undefined,
    private readonly insecure: boolean,
  ) {}

  /**
   * The client for these flags. With a password (`--password-stdin` or $GATEHOUSE_PASSWORD) it signs
   * in as the local user `--username`; without one it uses the login that `gatehouse login` cached for
   * `--server` (and `--username`), refreshing its token when needed, so people who signed in through an
   * identity provider can run management commands too.
   */
  static fromFlags(f: ServerFlags, readStdin: () => string, env: NodeJS.ProcessEnv): GatehouseClient {
    let base: URL | undefined;
    if (f.server) {
      try {
        base = new URL(f.server);
      } catch {
        throw new CliError(`--server: not a URL: ${f.server}`);
      }
      if (base.protocol !== "https:") throw new CliError("--server: Gatehouse is only reached over https://");
    }
    let ca: Buffer | undefined;
    if (f.certificateAuthority) {
      try {
        ca = readFileSync(f.certificateAuthority);
      } catch (e) {
        throw new CliError(
          `--certificate-authority: cannot read ${f.certificateAuthority}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
        );
      }
    }
    const password = f.passwordStdin ? readStdin().replace(/\r?\n$/, "") : env["GATEHOUSE_PASSWORD"];
    if (password) {
      if (!base)
        throw new CliError("no server given: pass --server https://HOST:PORT or set GATEHOUSE_SERVER");
      if (!f.username) throw new CliError("no user given: pass --username NAME or set GATEHOUSE_USERNAME");
      const basic = `Basic ${Buffer.from(`${f.username}:${password}`).toString("base64")}`;
      return new GatehouseClient(base, () => Promise.resolve(basic), ca, f.insecureSkipTlsVerify === true);
    }
    if (f.passwordStdin) throw new CliError("no password on standard input");
    const login = cachedLogin(cacheDir(env), base, f.username);
    const dir = cacheDir(env);
    const bearer = async (): Promise<string> => {
      try {
        return `Bearer ${(await freshLogin(dir, login.server, login.user, Date.now)).accessToken}`;
      } catch (e) {
        if (e instanceof LoginError) throw new CliError(e.message, e.exit);
        if (e instanceof CacheError) throw new CliError(e.message);
        throw e;
      }
    };
    return new GatehouseClient(
      new URL(login.server),
      bearer,
      ca ?? (login.caPem ? Buffer.from(login.caPem) : undefined),
      f.insecureSkipTlsVerify === true || login.insecureSkipTlsVerify === true,
    );
  }

  /** Send a request; transport failures are CliErrors with exit code 3, HTTP errors carry the Status message. */
  async call(
    method: string,
    path: string,
    body?: unknown,
    opts: { accept?: string } = {},
  ): Promise<ApiReply> {
    const url = new URL(path, this.base);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const authorization = await this.auth();
    const reply = await new Promise<ApiReply>((resolve, reject) => {
      const req = request(
        url,
        {
          method,
          headers: {
            authorization,
            accept: opts.accept ?? "application/json",
            ...(payload ? { "content-type": "application/json" } : {}),
          },
          ...(this.ca ? { ca: this.ca } : {}),
          rejectUnauthorized: !this.insecure,
          timeout: 30_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              // not JSON: keep the text
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
        },
      );
      req.on("timeout", () => req.destroy(new Error("timed out after 30s")));
      req.on("error", reject);
      req.end(payload);
    }).catch((e: NodeJS.ErrnoException) => {
      const hint =
        e.code === "UNABLE_TO_VERIFY_LEAF_SIGNATURE" ||
        e.code === "SELF_SIGNED_CERT_IN_CHAIN" ||
        e.code === "DEPTH_ZERO_SELF_SIGNED_CERT"
          ? "; pass --certificate-authority DATA_DIR/tls/ca.crt"
          : "; is the server running?";
      throw new CliError(`cannot reach ${this.base.origin}: ${e.code ?? e.message}${hint}`, 3);
    });
    if (reply.status >= 400) {
      const msg =
        typeof reply.body === "object" && reply.body !== null && "message" in reply.body
          ? String((reply.body as { message: unknown }).message)
          : `HTTP ${reply.status}`;
      throw new CliError(
        `the server refused: ${msg}`,
        reply.status === 401 ||
          reply.status === 403 ||
          reply.status === 404 ||
          reply.status === 409 ||
          reply.status === 422 ||
          reply.status === 400
          ? 2
          : 3,
      );
    }
    return reply;
  }
}
