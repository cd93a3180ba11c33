import { readFile } from "node:fs/promises";
import { isIP } from "node:net";
import type { ConnectionOptions } from "node:tls";
import { Client, InvalidCredentialsError, ResultCodeError } from "ldapts";
import { ProviderUnavailableError } from "../types.js";
import type { LdapSettings } from "./config.js";

/** Why a step against the directory failed, in words an operator can act on. */
export function explain(e: unknown, settings: LdapSettings): string {
  const err = e as NodeJS.ErrnoException & { code?: string | number };
  const code = typeof err.code === "string" ? err.code : "";
  const msg = err instanceof Error ? err.message : String(e);
  if (code === "ECONNREFUSED") return `nothing listens at ${settings.url} (connection refused)`;
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return `the host of ${settings.url} does not resolve`;
  if (code === "ECONNRESET") return `${settings.url} closed the connection`;
  if (/timeout|timed out/i.test(msg) || code === "ETIMEDOUT") return `${settings.url} did not answer in time`;
  if (
    /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS_CERT_ALTNAME_INVALID|DEPTH_ZERO/.test(
      code,
    ) ||
    /certificate/i.test(msg)
  )
    return `the LDAP server's TLS certificate is not trusted (${msg}): set spec.ldap.caData or caFile to the CA that issued it, and check the host name in url matches the certificate`;
  if (/wrong version number|packet length|EPROTO/i.test(msg + code))
    return `TLS failed (${msg}): ldaps:// needs a TLS port (636); for ldap:// on 389 use startTLS`;
  if (err instanceof ResultCodeError) return `${msg} (LDAP result ${err.code})`;
  return msg;
}

/**
 * Settle as `p` does, or reject with `onAbort()` as soon as `signal` aborts. ldapts can leave a call
 * pending forever when its socket is closed while it connects, so the deadline is enforced here
 * rather than by closing the socket under it.
 */
export function untilAborted<T>(p: Promise<T>, signal: AbortSignal, onAbort: () => Error): Promise<T> {
  if (signal.aborted) return Promise.reject(onAbort());
  return new Promise<T>((resolve, reject) => {
    const abort = (): void => reject(onAbort());
    signal.addEventListener("abort", abort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener("abort", abort));
  });
}

/** One connection to the directory, TLS set up (ldaps:// or StartTLS); closed by `close()`. */
export class LdapConnection {
  private constructor(
    readonly client: Client,
    private readonly settings: LdapSettings,
  ) {}

  /**
   * Connect (and StartTLS when configured). Connection, TLS and timeout failures throw
   * ProviderUnavailableError. Callers bound the whole exchange with `untilAborted`.
   */
  static async open(settings: LdapSettings, provider: string, timeoutMs: number): Promise<LdapConnection> {
    const tlsOptions = await tlsFor(settings, provider);
    const client = new Client({
      url: settings.url,
      timeout: timeoutMs,
      connectTimeout: timeoutMs,
      // Only for ldaps://: ldapts treats any tlsOptions as "connect with TLS", even for ldap://.
      ...(settings.url.startsWith("ldaps://") ? { tlsOptions } : {}),
      strictDN: true,
    });
    const conn = new LdapConnection(client, settings);
    if (settings.startTLS) {
      try {
        await client.startTLS({ ...tlsOptions });
      } catch (e) {
        await conn.close();
        throw new ProviderUnavailableError(provider, `LDAP StartTLS: ${explain(e, settings)}`);
      }
    }
    return conn;
  }

  /**
   * Simple bind. True when the server accepted the credentials, false on invalidCredentials (49);
   * anything else (unreachable, TLS, timeout) throws ProviderUnavailableError. An empty password
   * would be an unauthenticated bind (RFC 4513 §5.1.2), which servers accept: it is refused here.
   */
  async bind(dn: string, password: string, provider: string): Promise<boolean> {
    if (password === "" || dn === "") return false;
    try {
      await this.client.bind(dn, password);
      return true;
    } catch (e) {
      if (e instanceof InvalidCredentialsError) return false;
      throw new ProviderUnavailableError(provider, `LDAP bind: ${explain(e, this.settings)}`);
    }
  }

  async close(): Promise<void> {
    try {
      await this.client.unbind();
    } catch {
      // already closed
    }
  }
}

async function tlsFor(settings: LdapSettings, provider: string): Promise<ConnectionOptions> {
  if (settings.insecureSkipVerify) return { rejectUnauthorized: false };
  let ca: string | undefined = settings.caData;
  if (settings.caFile) {
    try {
      ca = await readFile(settings.caFile, "utf8");
    } catch (e) {
      throw new ProviderUnavailableError(
        provider,
        `cannot read spec.ldap.caFile ${settings.caFile}: ${(e as Error).message}`,
      );
    }
  }
  const host = new URL(settings.url).hostname.replace(/^\[|\]$/g, "");
  // SNI and the certificate's host-name check use the URL's host (StartTLS has no other source).
  return { rejectUnauthorized: true, ...(isIP(host) ? {} : { servername: host }), ...(ca ? { ca } : {}) };
}
