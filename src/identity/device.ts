import { createHash, randomBytes, randomInt, timingSafeEqual } from "node:crypto";
import type { Store, UserRecord } from "../store/index.js";
import { StoreError } from "../store/index.js";

/** Stored as gatehouse objects of this kind, named by user code, so every replica sees them. */
export const DEVICE_KIND = "DeviceAuthorization";
export const DEVICE_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code";

/** RFC 8628 §6.1: no vowels (no words), no look-alikes; 20^8 ≈ 2.6e10 codes. */
const USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ";

export interface DeviceOptions {
  lifetimeMs: number;
  /** The minimum seconds between polls a client is told; polling faster earns slow_down (+5 s). */
  intervalS: number;
}

export const DEVICE_DEFAULTS: DeviceOptions = { lifetimeMs: 10 * 60_000, intervalS: 5 };

export interface DeviceAuthorization {
  deviceCode: string;
  userCode: string;
  expiresIn: number;
  interval: number;
}

/** RFC 8628 §3.5 error codes a poll can get, plus the outcome the client waits for. */
export type PollResult =
  | { kind: "approved"; user: UserRecord; client: string }
  | {
      kind: "error";
      error: "authorization_pending" | "slow_down" | "access_denied" | "expired_token" | "invalid_grant";
    };

interface Body extends Record<string, unknown> {
  secretHash: string;
  client: string;
  expiresAt: number;
  interval: number;
  lastPoll: number;
  state: "pending" | "approved" | "denied";
  user?: string;
}

const sha256 = (s: string): string => createHash("sha256").update(s).digest("hex");

/** Normalise what a person typed: upper case, separators dropped ("bcdf-ghjk" → "BCDFGHJK"). */
export function normaliseUserCode(s: string): string {
  return s.toUpperCase().replace(/[^A-Z]/g, "");
}

export function formatUserCode(code: string): string {
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/**
 * The device authorization grant (RFC 8628) for machines without a browser. The device code is
 * `USERCODE.SECRET`; only the secret's SHA-256 is stored. A code is approved once, by a user who signs
 * in on the verification page, and exchanged once: the stored grant is deleted when tokens are issued.
 */
export class DeviceGrants {
  private lastPurge = 0;

  constructor(
    private readonly store: Store,
    private readonly now: () => number,
    private readonly opts: DeviceOptions = DEVICE_DEFAULTS,
  ) {}

  async start(client: string): Promise<DeviceAuthorization> {
    await this.purgeExpired();
    for (let attempt = 0; ; attempt++) {
      const userCode = Array.from({ length: 8 }, () => USER_CODE_ALPHABET[randomInt(20)]).join("");
      const secret = randomBytes(32).toString("base64url");
      const t = this.now();
      const body: Body = {
        secretHash: sha256(secret),
        client: client.slice(0, 200),
        expiresAt: t + this.opts.lifetimeMs,
        interval: this.opts.intervalS,
        lastPoll: 0,
        state: "pending",
      };
      try {
        await this.store.objects.create(this.key(userCode), randomBytes(16).toString("hex"), body, t);
      } catch (e) {
        // A live code with the same letters: draw again (a handful of times at most).
        if (e instanceof StoreError && e.code === "AlreadyExists" && attempt < 5) {
          await this.dropIfExpired(userCode);
          continue;
        }
        throw e;
      }
      return {
        deviceCode: `${userCode}.${secret}`,
        userCode,
        expiresIn: Math.floor(this.opts.lifetimeMs / 1000),
        interval: this.opts.intervalS,
      };
    }
  }

  /** The pending grant a person is about to approve, to show which client asked; undefined if none. */
  async pending(userCode: string): Promise<{ client: string } | undefined> {
    const row = await this.store.objects.get(this.key(normaliseUserCode(userCode)));
    const b = row?.body as Body | undefined;
    if (!b || b.state !== "pending" || b.expiresAt <= this.now()) return undefined;
    return { client: b.client };
  }

  /** Approve or deny a pending code for a user who has just signed in; false if no such live code. */
  async decide(userCode: string, user: string, approve: boolean): Promise<boolean> {
    const key = this.key(normaliseUserCode(userCode));
    const row = await this.store.objects.get(key);
    const b = row?.body as Body | undefined;
    if (!row || !b || b.state !== "pending" || b.expiresAt <= this.now()) return false;
    const next: Body = approve ? { ...b, state: "approved", user } : { ...b, state: "denied" };
    try {
      await this.store.objects.update(key, next, row.resourceVersion);
    } catch (e) {
      if (e instanceof StoreError && (e.code === "Conflict" || e.code === "NotFound")) return false;
      throw e;
    }
    return true;
  }

  /** One poll by the device (RFC 8628 §3.4–3.5). */
  async poll(deviceCode: string): Promise<PollResult> {
    const dot = deviceCode.indexOf(".");
    const userCode = deviceCode.slice(0, dot);
    const secret = deviceCode.slice(dot + 1);
    if (dot !== 8 || normaliseUserCode(userCode) !== userCode)
      return { kind: "error", error: "invalid_grant" };
    const key = this.key(userCode);
    const row = await this.store.objects.get(key);
    const b = row?.body as Body | undefined;
    const ok =
      b !== undefined &&
      typeof b.secretHash === "string" &&
      timingSafeEqual(Buffer.from(b.secretHash, "hex"), Buffer.from(sha256(secret), "hex"));
    if (!row || !b || !ok) return { kind: "error", error: "invalid_grant" };
    const t = this.now();
    if (b.expiresAt <= t) {
      await this.dropIfExpired(userCode);
      return { kind: "error", error: "expired_token" };
    }
    if (b.state === "denied") {
      await this.store.objects.delete(key).catch(() => undefined);
      return { kind: "error", error: "access_denied" };
    }
    if (b.state === "approved" && b.user) {
      // Exchanged once: whoever deletes it gets the tokens; a concurrent second poll does not.
      try {
        await this.store.objects.delete(key);
      } catch (e) {
        if (e instanceof StoreError && e.code === "NotFound")
          return { kind: "error", error: "invalid_grant" };
        throw e;
      }
      const user = await this.store.users.get(b.user);
      if (!user || user.disabled) return { kind: "error", error: "access_denied" };
      return { kind: "approved", user, client: b.client };
    }
    const tooSoon = t - b.lastPoll < b.interval * 1000;
    const next: Body = { ...b, lastPoll: t, ...(tooSoon ? { interval: b.interval + 5 } : {}) };
    await this.store.objects.update(key, next, row.resourceVersion).catch(() => undefined);
    return { kind: "error", error: tooSoon ? "slow_down" : "authorization_pending" };
  }

  /** Delete expired grants nobody polled again, at most every ten minutes per replica. */
  private async purgeExpired(): Promise<void> {
    const t = this.now();
    if (this.lastPurge + 10 * 60_000 > t) return;
    this.lastPurge = t;
    let cont: string | undefined;
    do {
      const page = await this.store.objects.list(DEVICE_KIND, {
        limit: 500,
        ...(cont ? { continue: cont } : {}),
      });
      for (const o of page.items)
        if ((o.body as Body).expiresAt <= t)
          await this.store.objects.delete(this.key(o.name)).catch(() => undefined);
      cont = page.continue;
    } while (cont);
  }

  private key(userCode: string): { kind: string; namespace: string; name: string } {
    return { kind: DEVICE_KIND, namespace: "", name: userCode };
  }

  private async dropIfExpired(userCode: string): Promise<void> {
    const row = await this.store.objects.get(this.key(userCode));
    if (row && (row.body as Body).expiresAt <= this.now())
      await this.store.objects.delete(this.key(userCode)).catch(() => undefined);
  }
}
