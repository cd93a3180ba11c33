import { describe, expect, it } from "vitest";
import { pino } from "pino";
import { Registry } from "prom-client";
import { createAuditMetrics, UnauthenticatedLimiter } from "../../src/audit/index.js";
import { DEFAULT_UNAUTHENTICATED_LIMITS, sourceKey } from "../../src/audit/unauthenticated.js";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, resolveConfig } from "../../src/config/index.js";
import { startGatehouse } from "../../src/server/app.js";

function limiter(limits: {
  perSourcePerMinute: number;
  perSourceBurst: number;
  globalPerSecond: number;
  maxSources: number;
}) {
  const clock = { t: 1_000_000 };
  const metrics = createAuditMetrics(new Registry());
  const l = new UnauthenticatedLimiter(limits, () => clock.t, metrics, pino({ level: "silent" }));
  const count = async (outcome: string) =>
    (await metrics.unauthenticated.get()).values.find((v) => v.labels["outcome"] === outcome)?.value ?? 0;
  return { l, clock, count };
}

describe("the flood guard of failed-authentication events", () => {
  it("records a burst per source, then the sustained rate, and tells the next event how many were not", async () => {
    const { l, clock, count } = limiter({
      perSourcePerMinute: 60,
      perSourceBurst: 3,
      globalPerSecond: 1000,
      maxSources: 100,
    });
    const got = Array.from({ length: 8 }, () => l.admit("10.0.0.1").record);
    expect(got).toEqual([true, true, true, false, false, false, false, false]);
    expect(await count("recorded")).toBe(3);
    expect(await count("suppressed")).toBe(5);
    clock.t += 1000; // one token a second
    expect(l.admit("10.0.0.1")).toEqual({ record: true, suppressedBefore: 5 });
    expect(l.admit("10.0.0.1")).toEqual({ record: false });
    // Another source has its own bucket.
    expect(l.admit("10.0.0.2")).toEqual({ record: true, suppressedBefore: 0 });
  });

  it("caps all sources together, so rotating addresses does not get past it", () => {
    const { l } = limiter({
      perSourcePerMinute: 60,
      perSourceBurst: 5,
      globalPerSecond: 10,
      maxSources: 1000,
    });
    const recorded = Array.from({ length: 100 }, (_, i) => l.admit(`10.1.${i >> 8}.${i & 255}`)).filter(
      (a) => a.record,
    );
    expect(recorded).toHaveLength(10);
  });

  it("keeps at most maxSources buckets, forgetting the oldest", () => {
    const { l } = limiter({ perSourcePerMinute: 60, perSourceBurst: 1, globalPerSecond: 1e6, maxSources: 2 });
    expect(l.admit("10.0.0.1").record).toBe(true);
    expect(l.admit("10.0.0.1").record).toBe(false);
    l.admit("10.0.0.2");
    l.admit("10.0.0.3"); // evicts 10.0.0.1
    expect(l.admit("10.0.0.1").record).toBe(true);
  });

  it("groups an IPv6 client by its /64 and an IPv4-mapped address as IPv4", () => {
    expect(sourceKey("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(sourceKey("2001:db8:1:2:bbbb:cccc:dddd:eeee")).toBe("2001:db8:1:2::/64");
    expect(sourceKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(sourceKey("::1")).toBe("0:0:0:0::/64");
    expect(sourceKey("::ffff:192.0.2.7")).toBe("192.0.2.7");
    expect(sourceKey("192.0.2.7")).toBe("192.0.2.7");
    const { l } = limiter({
      perSourcePerMinute: 60,
      perSourceBurst: 1,
      globalPerSecond: 1e6,
      maxSources: 100,
    });
    expect(l.admit("2001:db8:1:2::1").record).toBe(true);
    expect(l.admit("2001:db8:1:2::2").record).toBe(false);
    expect(l.admit("2001:db8:1:3::1").record).toBe(true);
  });
});

describe("the flood guard's settings", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "gh-flood-cfg-"));
  it("are the defaults unless set, and set from flags, environment or the config file", () => {
    expect(resolveConfig([{ name: "t", settings: { dataDir } }]).audit.unauthenticated).toBeUndefined();
    const c = resolveConfig([
      { name: "flags", settings: { dataDir, auditUnauthenticatedPerSource: "600" } },
      { name: "env", settings: { auditUnauthenticatedGlobal: "2000" } },
    ]);
    expect(c.audit.unauthenticated).toEqual({
      ...DEFAULT_UNAUTHENTICATED_LIMITS,
      perSourcePerMinute: 600,
      globalPerSecond: 2000,
    });
  });

  it("refuse values that are not whole numbers from 1, naming the setting and where it came from", () => {
    let err: unknown;
    try {
      resolveConfig([
        {
          name: "flags",
          settings: { dataDir, auditUnauthenticatedBurst: "0", auditUnauthenticatedGlobal: "lots" },
        },
      ]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = String((err as Error).message);
    expect(msg).toContain(
      'auditUnauthenticatedBurst (from flags): expected a whole number of events from 1 to 1000000, got "0"',
    );
    expect(msg).toContain("auditUnauthenticatedGlobal (from flags): expected a whole number");
  });

  it("reach the limiter of a running Gatehouse", async () => {
    const config = resolveConfig([
      { name: "t", settings: { dataDir, listen: "127.0.0.1:0", auditUnauthenticatedBurst: "7" } },
    ]);
    const gh = await startGatehouse(config, {
      log: pino({ level: "silent" }),
      now: () => Date.now(),
      onAdminPassword: () => undefined,
    });
    try {
      expect(gh.audit.unauthenticated.limits.perSourceBurst).toBe(7);
      expect(gh.audit.unauthenticated.limits.perSourcePerMinute).toBe(60);
    } finally {
      await gh.close();
    }
  });
});
