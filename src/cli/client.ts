import { readFileSync } from "node:fs";
import { request } from "node:https";
import { Option, type Command } from "commander";
import { CliError } from "./errors.js";

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

/** A client of the management API, authenticated as a local user (until `gatehouse login`). */
export class GatehouseClient {
  private constructor(
    private readonly base: URL,
    private readonly auth: string,
    private readonly ca: Buffer | undefined,
    private readonly insecure: boolean,
  ) {}

  static fromFlags(f: ServerFlags, readStdin: () => string, env: NodeJS.ProcessEnv): GatehouseClient {
    if (!f.server)
      throw new CliError("no server given: pass --server https://HOST:PORT or set GATEHOUSE_SERVER");
    let base: URL;
    try {
      base = new URL(f.server);
    } catch {
      throw new CliError(`--server: not a URL: ${f.server}`);
    }
    if (base.protocol !== "https:") throw new CliError("--server: Gatehouse is only reached over https://");
    if (!f.username) throw new CliError("no user given: pass --username NAME or set GATEHOUSE_USERNAME");
    const password = f.passwordStdin ? readStdin().replace(/\r?\n$/, "") : env["GATEHOUSE_PASSWORD"];
    if (!password) throw new CliError("no password: use --password-stdin or set GATEHOUSE_PASSWORD");
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
    const auth = `Basic ${Buffer.from(`${f.username}:${password}`).toString("base64")}`;
    return new GatehouseClient(base, auth, ca, f.insecureSkipTlsVerify === true);
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
    const reply = await new Promise<ApiReply>((resolve, reject) => {
      const req = request(
        url,
        {
          method,
          headers: {
            authorization: this.auth,
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
