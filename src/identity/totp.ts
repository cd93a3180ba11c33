/**
 * TOTP second factor for local users (RFC 6238 over RFC 4226 HOTP): HMAC-SHA-1, 30-second steps,
 * 6 digits, one step of clock drift either way. A code is accepted once: the last step used is
 * stored, and a code from that step or an earlier one is refused (RFC 6238 §5.2), with an optimistic
 * write so two requests racing with one code cannot both pass. The shared secret is sealed with the
 * key ring, bound to the user's name and uid (a user re-created under the same name is not enrolled).
 */
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import type { KeyRing } from "../secrets/index.js";
import { StoreError, type Store, type UserRecord } from "../store/index.js";

export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
/** Steps of drift accepted before and after the current one. */
export const TOTP_WINDOW = 1;
/** Where a user's enrolment is stored (store objects), named by the username. */
export const TOTP_KIND = "UserTOTP";

const B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** RFC 4648 base32 without padding (as authenticator apps expect it in otpauth:// URIs). */
export function base32Encode(b: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of b) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += B32[(value << (5 - bits)) & 31];
  return out;
}

/** RFC 4648 base32 (case-insensitive, padding and spaces ignored); undefined when malformed. */
export function base32Decode(s: string): Buffer | undefined {
  const clean = s.replace(/[\s=]/g, "").toUpperCase();
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const ch of clean) {
    const i = B32.indexOf(ch);
    if (i < 0) return undefined;
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** HOTP (RFC 4226 §5.3) for one counter value, with the hash and length RFC 6238 allows. */
export function hotp(
  key: Buffer,
  counter: number,
  digits = TOTP_DIGITS,
  alg: "sha1" | "sha256" | "sha512" = "sha1",
): string {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(alg, key).update(msg).digest();
  const offset = (mac[mac.length - 1] as number) & 0xf;
  const bin = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(bin % 10 ** digits).padStart(digits, "0");
}

/** The time step of a moment (milliseconds since the epoch). */
export const totpStep = (nowMs: number): number => Math.floor(nowMs / 1000 / TOTP_PERIOD_SECONDS);

/**
 * The step `code` belongs to, within ±TOTP_WINDOW of now and after `lastStep`; undefined when it
 * fits none (wrong, too old, or already used). Pure: the caller records the step it returns.
 */
export function matchTotp(key: Buffer, code: string, nowMs: number, lastStep: number): number | undefined {
  if (!/^\d{6}$/.test(code)) return undefined;
  const now = totpStep(nowMs);
  let found: number | undefined;
  // Every candidate is compared (constant work), the latest match wins.
  for (let s = now - TOTP_WINDOW; s <= now + TOTP_WINDOW; s++) {
    const ok = timingSafeEqual(Buffer.from(hotp(key, s)), Buffer.from(code));
    if (ok && s > lastStep) found = s;
  }
  return found;
}

/** The otpauth:// URI authenticator apps read (Key Uri Format, as Google Authenticator defines). */
export function otpauthUri(issuer: string, account: string, secretB32: string): string {
  const label = encodeURIComponent(`${issuer}:${account}`);
  const q = new URLSearchParams({
    secret: secretB32,
    issuer,
    algorithm: "SHA1",
    digits: String(TOTP_DIGITS),
    period: String(TOTP_PERIOD_SECONDS),
  });
  return `otpauth://totp/${label}?${q.toString()}`;
}

interface Enrolment extends Record<string, unknown> {
  uid: string;
  sealed: string;
  lastStep: number;
  createdAt: number;
}

export type TotpVerdict = "ok" | "wrong" | "not-enrolled";

/** Users' TOTP enrolments, stored as objects with the secret sealed by the key ring. */
export class TotpEnrolments {
  constructor(
    private readonly store: Store,
    private readonly keyRing: KeyRing,
    private readonly now: () => number,
  ) {}

  private key(name: string): { kind: string; namespace: string; name: string } {
    return { kind: TOTP_KIND, namespace: "", name };
  }

  private aad(user: UserRecord): string {
    return `${TOTP_KIND}/${user.name}/${user.uid}`;
  }

  /** Whether the user must give a one-time code to sign in. */
  async enrolled(user: UserRecord): Promise<boolean> {
    const row = await this.store.objects.get(this.key(user.name));
    return row !== undefined && (row.body as Enrolment).uid === user.uid;
  }

  /**
   * Enrol a user: a new 160-bit secret (RFC 4226 §4), returned once (base32 and otpauth:// URI) and
   * stored sealed. Refused (AlreadyExists) while an enrolment for this user exists.
   */
  async enroll(user: UserRecord, issuer: string): Promise<{ secret: string; uri: string }> {
    const secret = randomBytes(20);
    const b32 = base32Encode(secret);
    const body: Enrolment = {
      uid: user.uid,
      sealed: this.keyRing.seal(b32, this.aad(user)),
      lastStep: 0,
      createdAt: this.now(),
    };
    const existing = await this.store.objects.get(this.key(user.name));
    // An enrolment left from a deleted user of the same name is replaced.
    if (existing && (existing.body as Enrolment).uid !== user.uid)
      await this.store.objects.delete(this.key(user.name));
    else if (existing)
      throw new StoreError(
        "AlreadyExists",
        `user ${JSON.stringify(user.name)} already has TOTP: disable it first`,
      );
    await this.store.objects.create(this.key(user.name), randomUUID(), body, this.now());
    return { secret: b32, uri: otpauthUri(issuer, user.name, b32) };
  }

  /** Remove a user's enrolment; false when there was none. */
  async disable(name: string): Promise<boolean> {
    try {
      await this.store.objects.delete(this.key(name));
      return true;
    } catch (e) {
      if (e instanceof StoreError && e.code === "NotFound") return false;
      throw e;
    }
  }

  /** Check a code and, when it is good, record its step so it cannot be used again. */
  async verify(user: UserRecord, code: string): Promise<TotpVerdict> {
    const row = await this.store.objects.get(this.key(user.name));
    const e = row?.body as Enrolment | undefined;
    if (!row || !e || e.uid !== user.uid) return "not-enrolled";
    const key = base32Decode(this.keyRing.open(e.sealed, this.aad(user)));
    if (!key) return "wrong";
    const step = matchTotp(key, code, this.now(), e.lastStep);
    if (step === undefined) return "wrong";
    try {
      await this.store.objects.update(this.key(user.name), { ...e, lastStep: step }, row.resourceVersion);
    } catch (err) {
      // Another sign-in recorded a step meanwhile (possibly with this very code): refuse.
      if (err instanceof StoreError && (err.code === "Conflict" || err.code === "NotFound")) return "wrong";
      throw err;
    }
    return "ok";
  }
}
