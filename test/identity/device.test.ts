import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Store } from "../../src/store/index.js";
import { DeviceGrants, formatUserCode, normaliseUserCode } from "../../src/identity/index.js";
import { freshDatabases } from "../harness/databases.js";

for (const db of await freshDatabases()) {
  describe(`the device authorization grant on ${db.name}`, () => {
    let store: Store;
    let clock = Date.parse("2026-11-28T10:00:00Z");
    let grants: DeviceGrants;
    beforeAll(async () => {
      store = await Store.open(db.location);
      grants = new DeviceGrants(store, () => clock);
      await store.users.create({
        name: "alice",
        uid: randomUUID(),
        passwordHash: null,
        disabled: false,
        groups: [],
        createdAt: clock,
        updatedAt: clock,
      });
    });
    afterAll(async () => {
      await store.close();
    });

    it("hands out an 8-letter user code without vowels and a device code that embeds it", async () => {
      const a = await grants.start("cli@host");
      expect(a.userCode).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{8}$/);
      expect(a.deviceCode.startsWith(`${a.userCode}.`)).toBe(true);
      expect(a).toMatchObject({ expiresIn: 600, interval: 5 });
      expect(normaliseUserCode(formatUserCode(a.userCode).toLowerCase())).toBe(a.userCode);
      expect(await grants.pending(formatUserCode(a.userCode))).toEqual({ client: "cli@host" });
      const stored = JSON.stringify(
        (await store.objects.get({ kind: "DeviceAuthorization", namespace: "", name: a.userCode }))?.body,
      );
      expect(stored).not.toContain(a.deviceCode.split(".")[1]);
    });

    it("says authorization_pending, then slow_down to a client polling faster than the interval, then issues once", async () => {
      const a = await grants.start("cli");
      expect(await grants.poll(a.deviceCode)).toEqual({ kind: "error", error: "authorization_pending" });
      clock += 1_000;
      expect(await grants.poll(a.deviceCode)).toEqual({ kind: "error", error: "slow_down" });
      clock += 6_000; // the interval is now 10 s
      expect(await grants.poll(a.deviceCode)).toEqual({ kind: "error", error: "slow_down" });
      clock += 15_000;
      expect(await grants.poll(a.deviceCode)).toEqual({ kind: "error", error: "authorization_pending" });
      expect(await grants.decide(a.userCode, "alice", true)).toBe(true);
      const r = await grants.poll(a.deviceCode);
      expect(r.kind === "approved" && r.user.name).toBe("alice");
      expect(await grants.poll(a.deviceCode)).toEqual({ kind: "error", error: "invalid_grant" });
      expect(await grants.decide(a.userCode, "alice", true)).toBe(false);
    });

    it("refuses a device code whose secret is wrong, malformed, or unknown", async () => {
      const a = await grants.start("cli");
      await grants.decide(a.userCode, "alice", true);
      expect(await grants.poll(`${a.userCode}.wrong`)).toEqual({ kind: "error", error: "invalid_grant" });
      expect(await grants.poll("garbage")).toEqual({ kind: "error", error: "invalid_grant" });
      expect(await grants.poll("BCDFGHJK.x")).toEqual({ kind: "error", error: "invalid_grant" });
      expect((await grants.poll(a.deviceCode)).kind).toBe("approved");
    });

    it("answers access_denied when the person denies, and expired_token after ten minutes", async () => {
      const denied = await grants.start("cli");
      expect(await grants.decide(normaliseUserCode(formatUserCode(denied.userCode)), "alice", false)).toBe(
        true,
      );
      expect(await grants.poll(denied.deviceCode)).toEqual({ kind: "error", error: "access_denied" });
      const late = await grants.start("cli");
      clock += 10 * 60_000;
      expect(await grants.pending(late.userCode)).toBeUndefined();
      expect(await grants.decide(late.userCode, "alice", true)).toBe(false);
      expect(await grants.poll(late.deviceCode)).toEqual({ kind: "error", error: "expired_token" });
    });

    it("deletes expired grants that nobody polled when a later sign-in starts", async () => {
      const stale = await grants.start("cli");
      clock += 11 * 60_000;
      await grants.start("cli");
      expect(
        await store.objects.get({ kind: "DeviceAuthorization", namespace: "", name: stale.userCode }),
      ).toBeUndefined();
    });

    it("does not issue tokens for a user disabled after approving", async () => {
      const a = await grants.start("cli");
      await grants.decide(a.userCode, "alice", true);
      await store.users.update("alice", { disabled: true }, clock);
      expect(await grants.poll(a.deviceCode)).toEqual({ kind: "error", error: "access_denied" });
      await store.users.update("alice", { disabled: false }, clock);
    });
  });
}
