import { randomBytes } from "node:crypto";
import {
  exportJWK,
  exportPKCS8,
  generateKeyPair,
  importJWK,
  importPKCS8,
  type CryptoKey,
  type JWK,
} from "jose";
import type { KeyRing } from "../../secrets/index.js";
import type { SigningKeyRepository } from "./repositories.js";

export const SIGNING_ALG = "ES256";

export interface SigningKey {
  kid: string;
  createdAt: number;
  publicJwk: JWK;
  publicKey: CryptoKey;
  /** Only the newest key's private key is opened; older ones only verify. */
  privateKey?: CryptoKey;
}

const aad = (kid: string): string => `SigningKey/${kid}/private`;

/**
 * The issuer's ES256 keys. The newest signs; a key stays published (and so verifies) until one
 * access-token lifetime after its successor appeared, then it is deleted. Private keys are sealed
 * with the key ring, bound to their kid. Several replicas may each add a key at a rotation: both are
 * valid, and the newest signs.
 */
export class SigningKeys {
  private cache: { keys: SigningKey[]; loadedAt: number } | undefined;
  private loading: Promise<SigningKey[]> | undefined;
  private creating: Promise<void> | undefined;

  constructor(
    private readonly repo: SigningKeyRepository,
    private readonly keyRing: KeyRing,
    private readonly opts: { rotationMs: number; verifyGraceMs: number; reloadMs: number },
    private readonly now: () => number,
  ) {}

  /** The key that signs now, creating or rotating it when due. */
  async current(): Promise<SigningKey & { privateKey: CryptoKey }> {
    let keys = await this.keys();
    const newest = keys[0];
    if (!newest || newest.createdAt + this.opts.rotationMs <= this.now()) {
      // One creation at a time in this process; the rest wait for it.
      this.creating ??= this.create().finally(() => (this.creating = undefined));
      await this.creating;
      // A fresh read, not a load that may have started before the key was written.
      keys = await this.load();
    }
    const k = keys[0];
    if (!k?.privateKey) throw new Error("no signing key available");
    return k as SigningKey & { privateKey: CryptoKey };
  }

  /** Every key that may verify a token now (published in the JWKS). */
  async keys(force = false): Promise<SigningKey[]> {
    const t = this.now();
    if (!force && this.cache && this.cache.loadedAt + this.opts.reloadMs > t) return this.cache.keys;
    this.loading ??= this.load().finally(() => (this.loading = undefined));
    return this.loading;
  }

  /** Look a kid up, reloading once if it is not known yet (another replica may have rotated). */
  async find(kid: string): Promise<SigningKey | undefined> {
    const hit = (await this.keys()).find((k) => k.kid === kid);
    if (hit) return hit;
    if (this.cache && this.cache.loadedAt + 1_000 > this.now()) return undefined;
    return (await this.keys(true)).find((k) => k.kid === kid);
  }

  private async load(): Promise<SigningKey[]> {
    const t = this.now();
    const rows = await this.repo.list();
    // A key is needed until its successor has signed for one access-token lifetime.
    const live = rows.filter((r, i) => {
      const successor = rows[i - 1];
      return !successor || successor.createdAt + this.opts.verifyGraceMs > t;
    });
    const keys: SigningKey[] = [];
    for (const [i, r] of live.entries()) {
      const publicJwk = JSON.parse(r.publicJwk) as JWK;
      const publicKey = (await importJWK(publicJwk, SIGNING_ALG)) as CryptoKey;
      const k: SigningKey = { kid: r.kid, createdAt: r.createdAt, publicJwk, publicKey };
      if (i === 0)
        k.privateKey = await importPKCS8(this.keyRing.open(r.privateSealed, aad(r.kid)), SIGNING_ALG);
      keys.push(k);
    }
    const oldestLive = live[live.length - 1];
    if (oldestLive) await this.repo.deleteOlderThan(oldestLive.createdAt);
    this.cache = { keys, loadedAt: t };
    return keys;
  }

  private async create(): Promise<void> {
    const pair = await generateKeyPair(SIGNING_ALG, { extractable: true });
    const kid = randomBytes(12).toString("base64url");
    const jwk = await exportJWK(pair.publicKey);
    const publicJwk: JWK = { ...jwk, kid, alg: SIGNING_ALG, use: "sig" };
    const pem = await exportPKCS8(pair.privateKey);
    await this.repo.insert({
      kid,
      alg: SIGNING_ALG,
      publicJwk: JSON.stringify(publicJwk),
      privateSealed: this.keyRing.seal(pem, aad(kid)),
      createdAt: this.now(),
    });
  }
}
