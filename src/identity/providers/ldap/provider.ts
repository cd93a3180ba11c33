import { ResultCodeError, type Entry } from "ldapts";
import {
  ProviderUnavailableError,
  type ExternalIdentity,
  type PasswordProvider,
  type ProviderCheck,
  type ProviderCommon,
  type Recheck,
} from "../types.js";
import type { LdapSettings } from "./config.js";
import { LdapConnection, explain, untilAborted } from "./connection.js";
import { escapeFilterValue } from "./escape.js";
import { groupAttributesOfUser, resolveGroups, values } from "./groups.js";

/** AD's userAccountControl ACCOUNTDISABLE flag. */
const UAC_DISABLED = 0x2;
/** Longer than any real user name; longer input is refused before it reaches the directory. */
const MAX_USERNAME = 256;

/**
 * LDAP and Active Directory sign-in: bind as the service account, find exactly one user entry by
 * the escaped username, bind as that entry with the password, then read its groups. See README.md.
 */
export class LdapProvider implements PasswordProvider {
  readonly flow = "password";
  readonly type = "ldap";
  readonly name: string;
  readonly displayName: string;

  constructor(
    private readonly common: ProviderCommon,
    private readonly s: LdapSettings,
  ) {
    this.name = common.name;
    this.displayName = common.displayName;
  }

  /** The filter that finds one person by the name they typed. */
  userFilter(username: string): string {
    return `(&${this.s.userSearch.filter}(${this.s.userSearch.usernameAttribute}=${escapeFilterValue(username)}))`;
  }

  async authenticate(
    username: string,
    password: string,
    signal: AbortSignal,
  ): Promise<ExternalIdentity | undefined> {
    // An empty password is an unauthenticated bind, which LDAP servers answer with success.
    if (password === "" || username === "" || username.length > MAX_USERNAME) return undefined;
    return this.withConnection(signal, async (conn) => {
      await this.serviceBind(conn);
      const user = await this.findOne(conn, this.userFilter(username));
      if (!user || this.disabled(user)) return undefined;
      if (!(await conn.bind(user.dn, password, this.name))) return undefined;
      // Group search runs with the service account's rights, not the user's.
      await this.serviceBind(conn);
      return this.identity(conn, user);
    });
  }

  async recheck(identity: ExternalIdentity, signal: AbortSignal): Promise<Recheck> {
    try {
      return await this.withConnection(signal, async (conn): Promise<Recheck> => {
        await this.serviceBind(conn);
        const user = await this.findBySubject(conn, identity.subject);
        if (!user)
          return {
            kind: "gone",
            reason: "no longer in the directory (or no longer matches userSearch.filter)",
          };
        if (this.disabled(user)) return { kind: "gone", reason: "disabled in the directory" };
        const now = await this.identity(conn, user);
        if (now.username !== identity.username)
          return { kind: "gone", reason: "username changed in the directory" };
        return { kind: "ok", identity: now };
      });
    } catch (e) {
      if (e instanceof ProviderUnavailableError) return { kind: "unavailable", reason: e.message };
      throw e;
    }
  }

  async test(signal: AbortSignal): Promise<ProviderCheck[]> {
    const checks: ProviderCheck[] = [];
    const tlsNote = this.s.insecureSkipVerify
      ? "WARNING: certificate verification is off (insecureSkipVerify); anyone on the path can read bind passwords"
      : this.s.url.startsWith("ldaps://")
        ? "LDAPS, server certificate verified"
        : this.s.startTLS
          ? "StartTLS, server certificate verified"
          : "WARNING: plain LDAP without TLS (insecurePlaintext): passwords cross the network in clear";
    let conn: LdapConnection;
    try {
      conn = await untilAborted(
        LdapConnection.open(this.s, this.name, this.common.timeoutMs),
        signal,
        () => new ProviderUnavailableError(this.name, `${this.s.url} did not answer in time`),
      );
      // ldapts connects lazily: a search of the root DSE proves the connection and TLS (any LDAP
      // answer, even a refusal, means the server was reached over a trusted channel).
      if (!this.s.startTLS)
        await conn.client
          .search("", { scope: "base", filter: "(objectClass=*)", attributes: ["namingContexts"] })
          .catch((e: unknown) => {
            if (!(e instanceof ResultCodeError)) throw e;
          });
      checks.push({ step: "connect", ok: true, message: `${this.s.url}: ${tlsNote}` });
    } catch (e) {
      const msg = e instanceof ProviderUnavailableError ? e.message : explain(e, this.s);
      checks.push({ step: "connect", ok: false, message: msg });
      return checks;
    }
    try {
      if (!(await conn.bind(this.s.bindDN, this.s.bindPassword, this.name))) {
        checks.push({
          step: "service bind",
          ok: false,
          message: `the server refused bindDN ${this.s.bindDN} with the configured bindPassword (invalid credentials): check both`,
        });
        return checks;
      }
      checks.push({ step: "service bind", ok: true, message: `bound as ${this.s.bindDN}` });
      try {
        const r = await conn.client.search(this.s.userSearch.baseDN, {
          scope: this.s.userSearch.scope,
          filter: this.s.userSearch.filter,
          attributes: [this.s.userSearch.usernameAttribute],
          sizeLimit: 1,
        });
        const n = r.searchEntries.length;
        checks.push({
          step: "user search",
          ok: n > 0,
          message:
            n > 0
              ? `found users under ${this.s.userSearch.baseDN} with ${this.s.userSearch.filter}`
              : `no entry under ${this.s.userSearch.baseDN} matches ${this.s.userSearch.filter}: check userSearch.baseDN and filter, and that the service account may read them`,
        });
      } catch (e) {
        // A size limit of 1 that was exceeded still proves users are found.
        const exceeded = (e as { code?: number }).code === 4;
        checks.push({
          step: "user search",
          ok: exceeded,
          message: exceeded
            ? `found users under ${this.s.userSearch.baseDN} with ${this.s.userSearch.filter}`
            : `searching ${this.s.userSearch.baseDN}: ${explain(e, this.s)}`,
        });
      }
    } catch (e) {
      checks.push({ step: "service bind", ok: false, message: e instanceof Error ? e.message : String(e) });
    } finally {
      await conn.close();
    }
    return checks;
  }

  /** Open a connection, run `fn`, close; LDAP errors other than "wrong password" mean unavailable. */
  private async withConnection<T>(signal: AbortSignal, fn: (c: LdapConnection) => Promise<T>): Promise<T> {
    const late = (): Error =>
      new ProviderUnavailableError(this.name, `LDAP server ${this.s.url} did not answer in time`);
    let conn: LdapConnection | undefined;
    try {
      return await untilAborted(
        (async () => {
          const c = await LdapConnection.open(this.s, this.name, this.common.timeoutMs);
          conn = c;
          if (signal.aborted) {
            // Opened after the deadline: nobody waits for it, and `finally` below has already run.
            void c.close();
            throw late();
          }
          return fn(c);
        })(),
        signal,
        late,
      );
    } catch (e) {
      if (e instanceof ProviderUnavailableError) throw e;
      throw new ProviderUnavailableError(this.name, `LDAP: ${explain(e, this.s)}`);
    } finally {
      // Not awaited: an unbind on a connection that stopped answering waits for its own timeout.
      void conn?.close();
    }
  }

  private async serviceBind(conn: LdapConnection): Promise<void> {
    if (!(await conn.bind(this.s.bindDN, this.s.bindPassword, this.name)))
      throw new ProviderUnavailableError(
        this.name,
        `the LDAP server refused the service account ${this.s.bindDN}: check spec.ldap.bindDN and bindPassword (gatehouse idp test ${this.name})`,
      );
  }

  private attributes(): string[] {
    const a = this.s.attributes;
    return [
      ...new Set([
        this.s.userSearch.usernameAttribute,
        a.username,
        a.email,
        ...(a.subject ? [a.subject] : []),
        ...(this.s.activeDirectory ? ["userAccountControl"] : []),
        ...groupAttributesOfUser(this.s),
      ]),
    ];
  }

  /** The single entry matching `filter`; none or several (ambiguous) is no one. */
  private async findOne(conn: LdapConnection, filter: string): Promise<Entry | undefined> {
    try {
      const r = await conn.client.search(this.s.userSearch.baseDN, {
        scope: this.s.userSearch.scope,
        filter,
        attributes: this.attributes(),
        sizeLimit: 2,
      });
      return r.searchEntries.length === 1 ? r.searchEntries[0] : undefined;
    } catch (e) {
      // sizeLimitExceeded: more than one entry matched.
      if ((e as { code?: number }).code === 4) return undefined;
      throw e;
    }
  }

  /** The user again, by stable subject (an attribute) or by DN, still within userSearch.filter. */
  private async findBySubject(conn: LdapConnection, subject: string): Promise<Entry | undefined> {
    const attr = this.s.attributes.subject;
    if (attr)
      return this.findOne(conn, `(&${this.s.userSearch.filter}(${attr}=${escapeFilterValue(subject)}))`);
    try {
      const r = await conn.client.search(subject, {
        scope: "base",
        filter: this.s.userSearch.filter,
        attributes: this.attributes(),
      });
      return r.searchEntries.length === 1 ? r.searchEntries[0] : undefined;
    } catch (e) {
      // noSuchObject (32): the entry was deleted or moved.
      if ((e as { code?: number }).code === 32) return undefined;
      throw e;
    }
  }

  private disabled(user: Entry): boolean {
    if (!this.s.activeDirectory) return false;
    const uac = Number(values(user, "userAccountControl")[0] ?? "0");
    return Number.isFinite(uac) && (uac & UAC_DISABLED) !== 0;
  }

  private async identity(conn: LdapConnection, user: Entry): Promise<ExternalIdentity> {
    const name = values(user, this.s.attributes.username)[0];
    if (name === undefined || name === "")
      throw new ProviderUnavailableError(
        this.name,
        `the user entry ${user.dn} has no ${this.s.attributes.username} attribute: check spec.ldap.attributes.username`,
      );
    const subject = this.s.attributes.subject ? values(user, this.s.attributes.subject)[0] : user.dn;
    if (subject === undefined)
      throw new ProviderUnavailableError(
        this.name,
        `the user entry ${user.dn} has no ${this.s.attributes.subject} attribute`,
      );
    const groups = await resolveGroups(conn, this.s, user);
    const email = values(user, this.s.attributes.email)[0];
    return {
      provider: this.name,
      subject,
      username: this.common.usernamePrefix + name,
      groups: [...new Set(groups.map((g) => this.common.groupsPrefix + g))].sort(),
      ...(email ? { email } : {}),
    };
  }
}
