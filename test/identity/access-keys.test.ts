import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { Store } from "../../src/store/index.js";
import {
  ACCESS_KEY_KIND,
  accessKeyAuthenticator,
  issueKey,
  type AuthResult,
} from "../../src/identity/index.js";
import { freshDatabases } from "../harness/databases.js";

const T0 = Date.parse("2026-11-28T10:00:00Z");
const keyOf = (name: string) => ({ kind: ACCESS_KEY_KIND, namespace: "", name });

/** "authenticated:USER:GROUPS" or the rejection reason: what a test compares. */
function verdict(r: AuthResult): string {
  if (r.kind === "authenticated") return `authenticated:${r.user.username}:${r.user.groups.join(",")}`;
  return r.kind === "rejected" ? r.reason : "none";
}

for (const db of await freshDatabases()) {
  describe(`access keys with the authentication cache on ${db.name}`, () => {
    let store: Store;
    /** Another process on the same database: another replica, or a CLI. */
    let other: Store;
    let clock = T0;
    const now = (): number => clock;
    const cached = db.name === "sqlite";

    beforeAll(async () => {
      store = await Store.open(db.location);
      other = await Store.open(db.location);
    });
    afterAll(async () => {
      await store.close();
      await other.close();
    });

    async function userWithKey(
      name: string,
      spec: Record<string, unknown> = {},
    ): Promise<{ auth: (token?: string) => Promise<string>; token: string; key: string }> {
      await store.users.create({
        name,
        uid: randomUUID(),
        passwordHash: null,
        disabled: false,
        groups: ["dev"],
        createdAt: clock,
        updatedAt: clock,
      });
      const key = `${name}-key`;
      const issued = issueKey(key);
      await store.objects.create(
        keyOf(key),
        randomUUID(),
        { spec: { user: name, ...spec }, secretHash: issued.secretHash, status: {} },
        clock,
      );
      const authn = accessKeyAuthenticator(store, now);
      const auth = async (token = issued.token): Promise<string> =>
        verdict(await authn.authenticate({ authorization: `Bearer ${token}` }, "127.0.0.1"));
      return { auth, token: issued.token, key };
    }

    it(`${cached ? "answers repeated requests from memory" : "reads the store on every request (another replica's writes would not show)"}`, async () => {
      const { auth } = await userWithKey("ann");
      expect(await auth()).toBe("authenticated:ann:dev,system:authenticated");
      // The first use is recorded on the key (at most once a minute): a write to the key, so the
      // cached answer is dropped once. Wait for it, then count the store reads of five requests.
      await vi.waitFor(async () =>
        expect((await store.objects.get(keyOf("ann-key")))?.body["status"]).toEqual({
          lastUsed: new Date(T0).toISOString(),
        }),
      );
      const reads = vi.spyOn(store.objects, "get");
      try {
        for (let i = 0; i < 5; i++) expect(await auth()).toBe("authenticated:ann:dev,system:authenticated");
        expect(reads.mock.calls.length).toBe(cached ? 1 : 5);
      } finally {
        reads.mockRestore();
      }
    });

    it("refuses a revoked (deleted) key from the next request on", async () => {
      const { auth, key } = await userWithKey("bea");
      expect(await auth()).toBe("authenticated:bea:dev,system:authenticated");
      await store.objects.delete(keyOf(key));
      expect(await auth()).toBe("invalid access key");
    });

    it("refuses the key of a disabled or deleted user from the next request on, and sees new groups at once", async () => {
      const { auth } = await userWithKey("cid");
      expect(await auth()).toBe("authenticated:cid:dev,system:authenticated");
      await store.users.update("cid", { groups: ["ops"] }, clock);
      expect(await auth()).toBe("authenticated:cid:ops,system:authenticated");
      await store.users.update("cid", { disabled: true }, clock);
      expect(await auth()).toBe("the access key's user is missing or disabled");
      await store.users.update("cid", { disabled: false }, clock);
      expect(await auth()).toBe("authenticated:cid:ops,system:authenticated");
      await store.users.delete("cid");
      expect(await auth()).toBe("the access key's user is missing or disabled");
    });

    it("refuses a key revoked by another process on the same database from the next request on", async () => {
      const { auth, key } = await userWithKey("dot");
      expect(await auth()).toBe("authenticated:dot:dev,system:authenticated");
      expect(await auth()).toBe("authenticated:dot:dev,system:authenticated");
      await other.objects.delete(keyOf(key));
      expect(await auth()).toBe("invalid access key");
    });

    it("refuses a user disabled by another process on the same database from the next request on", async () => {
      const { auth } = await userWithKey("eve");
      expect(await auth()).toBe("authenticated:eve:dev,system:authenticated");
      await other.users.update("eve", { disabled: true }, clock);
      expect(await auth()).toBe("the access key's user is missing or disabled");
    });

    it("does not keep an answer looked up while the user was being disabled", async () => {
      const { auth } = await userWithKey("fay");
      const get = store.users.get.bind(store.users);
      // The user is read, then disabled before the answer is returned (a write racing the lookup).
      const spy = vi.spyOn(store.users, "get").mockImplementationOnce(async (name) => {
        const u = await get(name);
        await store.users.update("fay", { disabled: true }, clock);
        return u;
      });
      try {
        expect(await auth()).toBe("authenticated:fay:dev,system:authenticated");
        expect(await auth()).toBe("the access key's user is missing or disabled");
      } finally {
        spy.mockRestore();
      }
    });

    it("refuses an expired key even while its answer is cached, and reads the store again after the TTL", async () => {
      const { auth } = await userWithKey("gus", { expiresAt: new Date(clock + 3_000).toISOString() });
      const reads = vi.spyOn(store.objects, "get");
      try {
        expect(await auth()).toBe("authenticated:gus:dev,system:authenticated");
        clock += 2_999;
        expect(await auth()).toBe("authenticated:gus:dev,system:authenticated");
        clock += 1;
        expect(await auth()).toBe("access key expired");
      } finally {
        reads.mockRestore();
        clock = T0;
      }
      const { auth: auth2 } = await userWithKey("hal");
      expect(await auth2()).toBe("authenticated:hal:dev,system:authenticated");
      const again = vi.spyOn(store.objects, "get");
      try {
        clock += 4_999;
        await auth2();
        const before = again.mock.calls.length;
        clock += 1; // the TTL (5 s) is over
        await auth2();
        expect(again.mock.calls.length - before).toBeGreaterThanOrEqual(1);
      } finally {
        again.mockRestore();
        clock = T0;
      }
    });

    it("never answers a wrong secret for a cached key", async () => {
      const { auth, token } = await userWithKey("ida");
      expect(await auth()).toBe("authenticated:ida:dev,system:authenticated");
      const wrong = token.slice(0, -2) + (token.endsWith("AA") ? "BB" : "AA");
      expect(await auth(wrong)).toBe("invalid access key");
    });
  });
}
