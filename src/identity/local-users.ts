import type { Store, UserRecord } from "../store/index.js";
import type { Authenticator } from "./authenticator.js";
import { dummyHash, verifyPassword } from "./passwords.js";

/** Gatehouse's administrators, a built-in group that may use the management API. */
export const ADMIN_GROUP = "gatehouse:admins";

/**
 * HTTP Basic authentication for local users (break-glass administrators). Used by the CLI until
 * Gatehouse-issued tokens take over; always over TLS.
 */
export function basicAuthenticator(
  store: Store,
  /** Users with a second factor cannot use Basic (it has no place for a one-time code). */
  secondFactor?: { enrolled(u: UserRecord): Promise<boolean> },
): Authenticator {
  return {
    async authenticate(headers) {
      const h = headers.authorization;
      if (h === undefined || !/^basic /i.test(h)) return { kind: "none" };
      let decoded: string;
      try {
        decoded = Buffer.from(h.slice(6).trim(), "base64").toString("utf8");
      } catch {
        return { kind: "rejected", reason: "malformed basic credentials" };
      }
      const i = decoded.indexOf(":");
      if (i <= 0) return { kind: "rejected", reason: "malformed basic credentials" };
      const name = decoded.slice(0, i);
      const password = decoded.slice(i + 1);
      const user = await store.users.get(name);
      const ok = await verifyPassword(user?.passwordHash ?? (await dummyHash()), password);
      if (!user || !ok || !user.passwordHash)
        return { kind: "rejected", reason: "invalid username or password" };
      if (user.disabled) return { kind: "rejected", reason: "user is disabled" };
      if (await secondFactor?.enrolled(user))
        return { kind: "rejected", reason: "this user has TOTP: sign in with gatehouse login instead" };
      return {
        kind: "authenticated",
        method: "basic",
        user: { username: user.name, uid: user.uid, groups: [...user.groups, "system:authenticated"] },
      };
    },
  };
}
