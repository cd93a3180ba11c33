import { createHash, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import type { KeyRing } from "../../secrets/index.js";
import type { Store } from "../../store/index.js";
import { StoreError } from "../../store/index.js";

/** Sign-ins sent to a provider and not yet back: gatehouse objects named by SHA-256 of the state. */
export const PENDING_SIGN_IN_KIND = "ProviderSignIn";
/** How long a person may take on the provider's pages. */
export const PENDING_LIFETIME_MS = 10 * 60_000;

/** The CLI's authorization request the sign-in will answer (already validated). */
export interface CliRequest {
  redirectUri: string;
  challenge: string;
  state: string;
}

export interface PendingSignIn {
  provider: string;
  /** The provider's own pending state (PKCE verifier, nonce...), opened. */
  pending: string;
  cli: CliRequest;
}

interface Body extends Record<string, unknown> {
  provider: string;
  sealed: string;
  cli: CliRequest;
  binding: string;
  expiresAt: number;
}

const sha256 = (s: string): string => createHash("sha256").update(s).digest("hex");

export type TakeResult =
  | { kind: "ok"; signIn: PendingSignIn }
  | { kind: "unknown" }
  | { kind: "expired" }
  | { kind: "wrong-provider" }
  | { kind: "wrong-browser" };

/**
 * Server-side state of redirect sign-ins. The `state` sent upstream is 256 random bits; the record is
 * bound to the provider, to the CLI's PKCE challenge and loopback redirect, and to the browser that
 * started it (a random value in a cookie, stored hashed): a callback from another browser (login CSRF,
 * RFC 6749 §10.12) or for another provider is refused. Records are single use: the first callback
 * deletes it, whatever the outcome. The provider's pending state is sealed with the key ring.
 */
export class PendingSignIns {
  private lastPurge = 0;

  constructor(
    private readonly store: Store,
    private readonly keyRing: KeyRing,
    private readonly now: () => number,
  ) {}

  /** A fresh state value and browser binding for a sign-in that is about to start. */
  static fresh(): { state: string; binding: string } {
    return { state: randomBytes(32).toString("base64url"), binding: randomBytes(32).toString("base64url") };
  }

  async save(state: string, binding: string, s: PendingSignIn): Promise<void> {
    const t = this.now();
    await this.purgeExpired(t);
    const name = sha256(state);
    const body: Body = {
      provider: s.provider,
      sealed: this.keyRing.seal(s.pending, `${PENDING_SIGN_IN_KIND}/${name}`),
      cli: s.cli,
      binding: sha256(binding),
      expiresAt: t + PENDING_LIFETIME_MS,
    };
    await this.store.objects.create(
      { kind: PENDING_SIGN_IN_KIND, namespace: "", name },
      randomUUID(),
      body,
      t,
    );
  }

  /** Take (delete) the sign-in a callback's state names; anything but an exact match is refused. */
  async take(state: string, provider: string, binding: string | undefined): Promise<TakeResult> {
    const name = sha256(state);
    let row;
    try {
      row = await this.store.objects.delete({ kind: PENDING_SIGN_IN_KIND, namespace: "", name });
    } catch (e) {
      if (e instanceof StoreError && e.code === "NotFound") return { kind: "unknown" };
      throw e;
    }
    const b = row.body as Body;
    if (b.expiresAt <= this.now()) return { kind: "expired" };
    if (b.provider !== provider) return { kind: "wrong-provider" };
    const want = Buffer.from(b.binding);
    const got = Buffer.from(sha256(binding ?? ""));
    if (binding === undefined || want.length !== got.length || !timingSafeEqual(want, got))
      return { kind: "wrong-browser" };
    const pending = this.keyRing.open(b.sealed, `${PENDING_SIGN_IN_KIND}/${name}`);
    return { kind: "ok", signIn: { provider: b.provider, pending, cli: b.cli } };
  }

  /** Delete sign-ins never completed, at most hourly per replica. */
  private async purgeExpired(t: number): Promise<void> {
    if (this.lastPurge + 3_600_000 > t) return;
    this.lastPurge = t;
    let cont: string | undefined;
    do {
      const page = await this.store.objects.list(PENDING_SIGN_IN_KIND, {
        limit: 500,
        ...(cont ? { continue: cont } : {}),
      });
      for (const o of page.items)
        if ((o.body as Body).expiresAt <= t)
          await this.store.objects
            .delete({ kind: PENDING_SIGN_IN_KIND, namespace: "", name: o.name })
            .catch(() => undefined);
      cont = page.continue;
    } while (cont);
  }
}
