import { createHash, randomBytes, randomUUID, generateKeyPairSync, createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKeyPair, SignJWT, UnsecuredJWT, decodeJwt, decodeProtectedHeader } from "jose";
import { Store, type UserRecord } from "../../src/store/index.js";
import { KeyRing } from "../../src/secrets/index.js";
import { createIssuer, issuerOptions, RefreshError, type Issuer } from "../../src/identity/index.js";
import { identityRepositories } from "../../src/identity/issuer/repositories.js";
import { freshDatabases } from "../harness/databases.js";

const ISS = "https://gatehouse.example:8443";
const MIN = 60_000;

function keyRing(): KeyRing {
  return KeyRing.create([{ id: "k1", key: randomBytes(32) }]);
}

async function user(store: Store, name: string, t: number, groups: string[] = ["dev"]): Promise<UserRecord> {
  const u: UserRecord = {
    name,
    uid: randomUUID(),
    passwordHash: null,
    disabled: false,
    groups,
    createdAt: t,
    updatedAt: t,
  };
  await store.users.create(u);
  return u;
}

const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString("base64url");

for (const db of await freshDatabases()) {
  describe(`the token issuer on ${db.name}`, () => {
    let store: Store;
    let clock = Date.parse("2026-11-28T10:00:00Z");
    const now = (): number => clock;
    let issuer: Issuer;
    let ring: KeyRing;

    beforeAll(async () => {
      store = await Store.open(db.location);
      ring = keyRing();
      issuer = createIssuer(store, ring, issuerOptions(ISS), now);
    });
    afterAll(async () => {
      await store.close();
    });

    const verify = async (token: string): Promise<string> => {
      const v = await issuer.verify(token);
      return v.kind === "valid" ? `valid:${v.user.username}` : v.reason;
    };

    it("issues an ES256 access token with iss, sub, aud, exp, iat, nbf, jti, groups and the session id", async () => {
      const u = await user(store, "alice", now());
      const t = await issuer.sessions.start(u, "laptop");
      const header = decodeProtectedHeader(t.accessToken);
      const claims = decodeJwt(t.accessToken);
      expect(header.alg).toBe("ES256");
      expect(typeof header.kid).toBe("string");
      expect(claims).toMatchObject({
        iss: ISS,
        sub: "alice",
        aud: "gatehouse",
        uid: u.uid,
        groups: ["dev"],
        sid: t.sessionId,
        iat: Math.floor(now() / 1000),
        nbf: Math.floor(now() / 1000),
        exp: Math.floor(now() / 1000) + 15 * 60,
      });
      expect(typeof claims.jti).toBe("string");
      expect(t.accessTokenExpiresAt).toBe(now() + 15 * MIN);
      expect(await verify(t.accessToken)).toBe("valid:alice");
      const v = await issuer.verify(t.accessToken);
      expect(v.kind === "valid" && v.user.groups).toEqual(["dev", "system:authenticated"]);
    });

    it("publishes its key in the JWKS and a discovery document that points at it", async () => {
      const jwks = await issuer.jwks();
      const u = await user(store, "jwks-user", now());
      const t = await issuer.sessions.start(u, "");
      const kid = decodeProtectedHeader(t.accessToken).kid;
      expect(jwks.keys.map((k) => k["kid"])).toContain(kid);
      for (const k of jwks.keys) {
        expect(k).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256", use: "sig" });
        expect(k).not.toHaveProperty("d");
      }
      expect(issuer.discovery()).toMatchObject({
        issuer: ISS,
        jwks_uri: `${ISS}/openid/v1/jwks`,
        id_token_signing_alg_values_supported: ["ES256"],
      });
    });

    it("stores the private signing key sealed with the key ring, bound to its kid", async () => {
      const rows = await identityRepositories(store).keys.list();
      expect(rows.length).toBeGreaterThan(0);
      for (const r of rows) {
        expect(r.privateSealed).toMatch(/^v1:k1:/);
        expect(r.privateSealed).not.toContain("PRIVATE KEY");
        expect(() => keyRing().open(r.privateSealed, `SigningKey/${r.kid}/private`)).toThrow();
        expect(() => ring.open(r.privateSealed, `SigningKey/other/private`)).toThrow();
      }
    });

    it("rotates the signing key on schedule and keeps the previous one for verification until its tokens expire", async () => {
      const u = await user(store, "rotor", now());
      const before = await issuer.sessions.start(u, "");
      const oldKid = decodeProtectedHeader(before.accessToken).kid;
      clock += 24 * 3600_000 - 5 * MIN; // old token long expired; make one just before rotation
      const late = await issuer.sessions.start(u, "");
      expect(decodeProtectedHeader(late.accessToken).kid).toBe(oldKid);
      clock += 6 * MIN; // rotation is due
      const after = await issuer.sessions.start(u, "");
      const newKid = decodeProtectedHeader(after.accessToken).kid;
      expect(newKid).not.toBe(oldKid);
      expect(await verify(late.accessToken)).toBe("valid:rotor");
      expect((await issuer.jwks()).keys.map((k) => k["kid"])).toEqual([newKid, oldKid]);
      clock += 20 * MIN; // past the old key's grace: unpublished and deleted
      await issuer.keys.keys(true);
      expect((await issuer.jwks()).keys.map((k) => k["kid"])).toEqual([newKid]);
      // This replica remembers the token as verified (and expired); a fresh one no longer knows its key.
      expect(await verify(late.accessToken)).toBe("access token: Expired");
      const fresh = createIssuer(store, ring, issuerOptions(ISS), now);
      expect(await fresh.verify(late.accessToken)).toEqual({
        kind: "rejected",
        reason: "access token: UnknownKey",
      });
    });

    describe("refuses forged and unfit access tokens", () => {
      let good: string;
      beforeAll(async () => {
        const u = await user(store, "victim", now(), ["dev"]);
        good = (await issuer.sessions.start(u, "")).accessToken;
      });

      it("refuses alg none", async () => {
        const claims = decodeJwt(good);
        const none = new UnsecuredJWT({ ...claims, groups: ["gatehouse:admins"] }).encode();
        expect(await verify(none)).toBe("access token: UnsupportedAlgorithm");
        const [, body] = good.split(".");
        expect(await verify(`${b64({ alg: "none", kid: decodeProtectedHeader(good).kid })}.${body}.`)).toBe(
          "access token: UnsupportedAlgorithm",
        );
      });

      it("refuses a token signed with HMAC using the public key as the secret", async () => {
        const kid = decodeProtectedHeader(good).kid as string;
        const jwk = (await issuer.jwks()).keys.find((k) => k["kid"] === kid);
        const [, body] = good.split(".");
        for (const secret of [JSON.stringify(jwk), String(jwk?.["x"])]) {
          const head = b64({ alg: "HS256", kid, typ: "JWT" });
          const sig = createHmac("sha256", secret).update(`${head}.${body}`).digest("base64url");
          expect(await verify(`${head}.${body}.${sig}`)).toBe("access token: UnsupportedAlgorithm");
        }
      });

      it("refuses a tampered payload", async () => {
        const [head, body, sig] = good.split(".");
        const claims = JSON.parse(Buffer.from(body as string, "base64url").toString()) as Record<
          string,
          unknown
        >;
        const forged = b64({ ...claims, groups: ["gatehouse:admins"] });
        expect(await verify(`${head}.${forged}.${sig}`)).toBe("access token: BadSignature");
      });

      it("refuses a token whose kid is unknown, and one signed by another key under a known kid", async () => {
        const other = await generateKeyPair("ES256");
        const claims = decodeJwt(good);
        const sign = (kid: string) =>
          new SignJWT(claims).setProtectedHeader({ alg: "ES256", kid }).sign(other.privateKey);
        expect(await verify(await sign("not-a-kid"))).toBe("access token: UnknownKey");
        const kid = decodeProtectedHeader(good).kid as string;
        expect(await verify(await sign(kid))).toBe("access token: BadSignature");
      });

      it("refuses wrong issuer and wrong audience even when properly signed", async () => {
        const other = createIssuer(store, ring, issuerOptions("https://evil.example"), now);
        const otherAud = createIssuer(store, ring, issuerOptions(ISS, { audience: "kubernetes" }), now);
        const u = (await store.users.get("victim")) as UserRecord;
        // Same store and keys: only the claim differs.
        const t1 = await other.sessions.start(u, "");
        const t2 = await otherAud.sessions.start(u, "");
        expect(await verify(t1.accessToken)).toBe("access token: WrongIssuer");
        expect(await verify(t2.accessToken)).toBe("access token: WrongAudience");
      });

      it("refuses an expired token and one not yet valid", async () => {
        const saved = clock;
        clock += 15 * MIN;
        expect(await verify(good)).toBe("access token: Expired");
        clock = saved - 60_000;
        expect(await verify(good)).toBe("access token: NotYetValid");
        clock = saved;
        expect(await verify(good)).toBe("valid:victim");
      });

      it("keeps refusing forgeries and checking time once the genuine token is cached as verified", async () => {
        expect(await verify(good)).toBe("valid:victim");
        expect(await verify(good)).toBe("valid:victim");
        const [head, body, sig] = good.split(".");
        const claims = JSON.parse(Buffer.from(body as string, "base64url").toString()) as Record<
          string,
          unknown
        >;
        expect(await verify(`${head}.${b64({ ...claims, sub: "admin" })}.${sig}`)).toBe(
          "access token: BadSignature",
        );
        expect(await verify(`${head}.${body}.${(sig as string).slice(0, -2)}AA`)).toBe(
          "access token: BadSignature",
        );
        const saved = clock;
        clock += 15 * MIN;
        expect(await verify(good)).toBe("access token: Expired");
        clock = saved - 60_000;
        expect(await verify(good)).toBe("access token: NotYetValid");
        clock = saved;
      });

      it("refuses garbage", async () => {
        expect(await verify("eyJ.eyJ.x")).toBe("access token: Malformed");
        expect(await verify("not a token")).toBe("access token: Malformed");
      });
    });

    describe("refresh sessions", () => {
      it("rotates the refresh token on every use and stores only its hash", async () => {
        const u = await user(store, "bob", now());
        const t1 = await issuer.sessions.start(u, "laptop");
        expect(t1.refreshToken).toMatch(/^ghr\./);
        clock += MIN;
        const t2 = await issuer.sessions.refresh(t1.refreshToken);
        expect(t2.sessionId).toBe(t1.sessionId);
        expect(t2.refreshToken).not.toBe(t1.refreshToken);
        expect(await verify(t2.accessToken)).toBe("valid:bob");
        const raw = await store.db
          .selectFrom("sessions" as never)
          .selectAll()
          .execute();
        const text = JSON.stringify(raw);
        expect(text).not.toContain(t2.refreshToken);
        expect(text).toContain(createHash("sha256").update(t2.refreshToken).digest("hex"));
      });

      it("revokes the whole session when a refresh token is used twice", async () => {
        const u = await user(store, "carol", now());
        const t1 = await issuer.sessions.start(u, "");
        const t2 = await issuer.sessions.refresh(t1.refreshToken);
        await expect(issuer.sessions.refresh(t1.refreshToken)).rejects.toMatchObject({ code: "Reused" });
        // The legitimate holder's newer tokens die with it.
        await expect(issuer.sessions.refresh(t2.refreshToken)).rejects.toMatchObject({ code: "Revoked" });
        expect(await verify(t2.accessToken)).toBe("access token: session ended or user disabled");
      });

      it("lets exactly one of two concurrent exchanges of one refresh token win", async () => {
        const u = await user(store, "racer", now());
        const t1 = await issuer.sessions.start(u, "");
        const results = await Promise.allSettled([
          issuer.sessions.refresh(t1.refreshToken),
          issuer.sessions.refresh(t1.refreshToken),
        ]);
        const won = results.filter((r) => r.status === "fulfilled");
        expect(won.length).toBeLessThanOrEqual(1);
        const lost = results.filter((r) => r.status === "rejected");
        for (const r of lost) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(RefreshError);
        // Either way the session is not usable by both: after the reuse it is revoked.
        expect(await issuer.sessions.listLive("racer")).toEqual([]);
      });

      it("ends a session left idle past the idle lifetime, and any session past the absolute lifetime", async () => {
        const u = await user(store, "dave", now());
        const idle = await issuer.sessions.start(u, "");
        clock += 24 * 3600_000;
        await expect(issuer.sessions.refresh(idle.refreshToken)).rejects.toMatchObject({ code: "Expired" });
        let t = await issuer.sessions.start(u, "");
        for (let i = 0; i < 7; i++) {
          clock += 23 * 3600_000;
          t = await issuer.sessions.refresh(t.refreshToken);
        }
        clock += 23 * 3600_000; // 8 * 23 h > 7 days since sign-in
        await expect(issuer.sessions.refresh(t.refreshToken)).rejects.toMatchObject({ code: "Expired" });
      });

      it("keeps several sessions of one user apart: logging out one leaves the other", async () => {
        const u = await user(store, "erin", now());
        const laptop = await issuer.sessions.start(u, "laptop");
        const ci = await issuer.sessions.start(u, "ci");
        expect((await issuer.sessions.listLive("erin")).map((s) => s.client).sort()).toEqual([
          "ci",
          "laptop",
        ]);
        await issuer.sessions.revoke(laptop.sessionId, "logout");
        expect(await verify(laptop.accessToken)).toBe("access token: session ended or user disabled");
        expect(await verify(ci.accessToken)).toBe("valid:erin");
        expect((await issuer.sessions.refresh(ci.refreshToken)).sessionId).toBe(ci.sessionId);
      });

      it("refuses a revoked session at once, with no cache delay", async () => {
        const u = await user(store, "frank", now());
        const t = await issuer.sessions.start(u, "");
        expect(await verify(t.accessToken)).toBe("valid:frank"); // now cached as live
        await issuer.sessions.revoke(t.sessionId, "revoked by admin");
        expect(await verify(t.accessToken)).toBe("access token: session ended or user disabled");
        await expect(issuer.sessions.refresh(t.refreshToken)).rejects.toMatchObject({ code: "Revoked" });
      });

      it("refuses tokens and refreshes of a user at once when the user is disabled", async () => {
        const u = await user(store, "grace", now());
        const t = await issuer.sessions.start(u, "");
        expect(await verify(t.accessToken)).toBe("valid:grace"); // the session is now cached as live
        await store.users.update("grace", { disabled: true }, now());
        expect(await verify(t.accessToken)).toBe("access token: session ended or user disabled");
        await expect(issuer.sessions.refresh(t.refreshToken)).rejects.toMatchObject({ code: "UserDisabled" });
      });

      it("refuses the tokens of a user disabled by another process on the same database at once, and sees new groups", async () => {
        const other = await Store.open(db.location); // another replica (or a CLI) on the same database
        try {
          const u = await user(store, "gwen", now());
          const t = await issuer.sessions.start(u, "");
          const groups = async (): Promise<string> => {
            const v = await issuer.verify(t.accessToken);
            return v.kind === "valid" ? v.user.groups.join(",") : v.reason;
          };
          expect(await groups()).toBe("dev,system:authenticated");
          expect(await groups()).toBe("dev,system:authenticated"); // the user may now be cached
          await other.users.update("gwen", { groups: ["ops"] }, now());
          expect(await groups()).toBe("ops,system:authenticated");
          await other.users.update("gwen", { disabled: true }, now());
          expect(await groups()).toBe("access token: session ended or user disabled");
        } finally {
          await other.close();
        }
      });

      it("forgets ended sessions a day after they ended, keeping live ones", async () => {
        const u = await user(store, "henry", now());
        const ended = await issuer.sessions.start(u, "");
        await issuer.sessions.revoke(ended.sessionId, "logout");
        const live = await issuer.sessions.start(u, "");
        clock += 23 * 3_600_000;
        const next = await issuer.sessions.refresh(live.refreshToken);
        clock += 2 * 3_600_000;
        await issuer.sessions.start(u, ""); // a sign-in runs the purge
        expect(await issuer.sessions.get(ended.sessionId)).toBeUndefined();
        expect((await issuer.sessions.get(live.sessionId))?.revokedAt).toBeNull();
        expect((await issuer.sessions.refresh(next.refreshToken)).sessionId).toBe(live.sessionId);
      });

      it("refuses an unknown refresh token", async () => {
        await expect(issuer.sessions.refresh("ghr.nothing")).rejects.toMatchObject({ code: "Invalid" });
      });
    });
  });
}

describe("the first requests after a start", () => {
  it("share one new signing key when they arrive together", async () => {
    const store = await Store.open({
      kind: "sqlite",
      path: `${(await import("node:os")).tmpdir()}/gh-first-${randomUUID()}.db`,
    });
    try {
      const issuer = createIssuer(store, keyRing(), issuerOptions(ISS), Date.now);
      const u = await user(store, "first", Date.now());
      const sets = await Promise.all(Array.from({ length: 8 }, () => issuer.sessions.start(u, "")));
      const kids = new Set(sets.map((t) => decodeProtectedHeader(t.accessToken).kid));
      expect(kids.size).toBe(1);
      expect((await identityRepositories(store).keys.list()).length).toBe(1);
      for (const t of sets) expect((await issuer.verify(t.accessToken)).kind).toBe("valid");
    } finally {
      await store.close();
    }
  });
});

describe("an RSA key from elsewhere", () => {
  it("is never accepted, whatever the header says", async () => {
    const store = await Store.open({
      kind: "sqlite",
      path: `${(await import("node:os")).tmpdir()}/gh-rsa-${randomUUID()}.db`,
    });
    try {
      const issuer = createIssuer(store, keyRing(), issuerOptions(ISS), Date.now);
      const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
      const token = await new SignJWT({ sub: "x", uid: "u", groups: [], sid: "s" })
        .setProtectedHeader({ alg: "RS256", kid: "k" })
        .setIssuer(ISS)
        .setAudience("gatehouse")
        .setIssuedAt()
        .setNotBefore("0s")
        .setExpirationTime("5m")
        .setJti("j")
        .sign(privateKey);
      const v = await issuer.verify(token);
      expect(v).toEqual({ kind: "rejected", reason: "access token: UnsupportedAlgorithm" });
    } finally {
      await store.close();
    }
  });
});
