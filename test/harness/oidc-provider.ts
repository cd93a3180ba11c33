import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportJWK, generateKeyPair } from "jose";
import { ensureSelfSigned } from "../../src/server/tls.js";
import { freePort } from "./ports.js";

export interface OidcUser {
  email: string;
  groups: string[];
  username?: string;
  emailVerified?: boolean;
}

export interface OidcClient {
  client_id: string;
  client_secret?: string;
  redirect_uris: string[];
  grant_types?: string[];
  token_endpoint_auth_method?: string;
}

/** A running oidc-provider process (see oidc-provider/server.mjs). */
export interface UpstreamOidc {
  issuer: string;
  /** base64 of the provider's CA certificate (PEM), as spec.oidc.caData. */
  caData: string;
  caPem: string;
  /** Replace the provider's users (takes effect at the next lookup). */
  setUsers(users: Record<string, OidcUser>): void;
  /** Add a client (restarts the provider). */
  setClients(clients: OidcClient[]): Promise<void>;
  /** Generate a new signing key that signs from now on, keeping the old ones published (restarts). */
  rotateKeys(): Promise<string>;
  /** The kid that signs now. */
  signingKid(): string;
  stop(): Promise<void>;
  start(): Promise<void>;
}

/**
 * Start `oidc-provider` as a separate Node process over HTTPS on a free port, with generated keys,
 * users (with groups) and clients. Stopped and started again on the same port and keys, so tests can
 * take it down ("provider down") and rotate its keys.
 */
export async function startUpstreamOidc(
  users: Record<string, OidcUser>,
  clients: OidcClient[],
  opts: { conformIdTokenClaims?: boolean } = {},
): Promise<UpstreamOidc> {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-oidc-"));
  const port = await freePort();
  const issuer = `https://127.0.0.1:${port}`;
  const tls = await ensureSelfSigned(dir, "127.0.0.1", new Date());
  const caPem = readFileSync(tls.caFile, "utf8");
  const certFile = join(dir, "cert.pem");
  const keyFile = join(dir, "key.pem");
  writeFileSync(certFile, tls.certPem);
  writeFileSync(keyFile, tls.keyPem, { mode: 0o600 });
  const usersFile = join(dir, "users.json");
  const jwksFile = join(dir, "jwks.json");
  const configFile = join(dir, "config.json");
  const keys: Record<string, unknown>[] = [];
  const newKey = async (): Promise<string> => {
    const { privateKey } = await generateKeyPair("RS256", { extractable: true });
    const jwk = {
      ...(await exportJWK(privateKey)),
      kid: `k${keys.length + 1}-${Date.now()}`,
      alg: "RS256",
      use: "sig",
    };
    keys.unshift(jwk);
    writeFileSync(jwksFile, JSON.stringify({ keys }), { mode: 0o600 });
    return jwk.kid;
  };
  await newKey();
  const writeConfig = (cs: OidcClient[]): void =>
    writeFileSync(
      configFile,
      JSON.stringify({
        issuer,
        port,
        certFile,
        keyFile,
        jwksFile,
        usersFile,
        clients: cs,
        conformIdTokenClaims: opts.conformIdTokenClaims === true,
      }),
    );
  writeFileSync(usersFile, JSON.stringify(users));
  writeConfig(clients);
  let child: ChildProcess | undefined;
  const script = new URL("./oidc-provider/server.mjs", import.meta.url).pathname;

  const start = async (): Promise<void> => {
    const p = spawn(process.execPath, [script, configFile], { stdio: ["ignore", "pipe", "pipe"] });
    child = p;
    let err = "";
    p.stderr?.on("data", (d: Buffer) => (err += d.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`oidc-provider did not start: ${err}`)), 20_000);
      p.stdout?.on("data", (d: Buffer) => {
        if (d.toString().includes("listening")) {
          clearTimeout(timer);
          resolve();
        }
      });
      p.on("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`oidc-provider exited with ${code}: ${err}`));
      });
    });
    p.removeAllListeners("exit");
  };
  const stop = async (): Promise<void> => {
    const p = child;
    child = undefined;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once("exit", () => resolve());
      p.kill("SIGTERM");
      setTimeout(() => p.kill("SIGKILL"), 3_000).unref();
    });
  };
  await start();
  return {
    issuer,
    caPem,
    caData: Buffer.from(caPem).toString("base64"),
    setUsers: (u) => writeFileSync(usersFile, JSON.stringify(u)),
    setClients: async (cs) => {
      writeConfig(cs);
      await stop();
      await start();
    },
    rotateKeys: async () => {
      const kid = await newKey();
      await stop();
      await start();
      return kid;
    },
    signingKid: () => String(keys[0]?.["kid"]),
    stop,
    start,
  };
}
