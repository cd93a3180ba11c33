import type { IncomingHttpHeaders } from "node:http";
import type { UserInfo } from "../core/k8s/index.js";

/**
 * What an authenticator concluded about a request. "none" means it found no credential of its kind
 * (another authenticator may); "rejected" means a credential was present and is not good: the request
 * fails with 401 and no other authenticator is asked (fail closed).
 */
export type AuthResult =
  | { kind: "none" }
  | { kind: "authenticated"; user: UserInfo; method: string }
  | { kind: "rejected"; reason: string };

export interface Authenticator {
  authenticate(headers: IncomingHttpHeaders, remoteAddress: string): Promise<AuthResult>;
}

/** Ask each authenticator in turn; the first that does not say "none" decides. */
export function unionAuthenticator(list: readonly Authenticator[]): Authenticator {
  return {
    async authenticate(headers, remote) {
      for (const a of list) {
        const r = await a.authenticate(headers, remote);
        if (r.kind !== "none") return r;
      }
      return { kind: "none" };
    },
  };
}
