import { describe, expect, it } from "vitest";
import { ConfigError, resolveConfig } from "../../src/config/index.js";
import { parseDuration } from "../../src/identity/issuer/settings.js";
import { LoginThrottle, RateLimit } from "../../src/identity/index.js";

describe("token settings in the server configuration", () => {
  const base = { listen: "127.0.0.1:0", dataDir: "/tmp/gatehouse-settings-test" };

  it("defaults to 15 minute access tokens, 24 hour idle and 7 day absolute sessions, and no fixed issuer URL", () => {
    const c = resolveConfig([{ name: "test", settings: base }]);
    expect(c.tokens).toEqual({
      accessTokenTtlMs: 15 * 60_000,
      refreshIdleTtlMs: 24 * 3_600_000,
      sessionAbsoluteTtlMs: 7 * 86_400_000,
      keyRotationMs: 24 * 3_600_000,
    });
  });

  it("takes lifetimes and the issuer URL from the environment, flags winning", () => {
    const c = resolveConfig([
      {
        name: "environment",
        settings: { ...base, accessTokenTtl: "5m", issuerUrl: "https://gatehouse.example.com/" },
      },
      { name: "flags", settings: { accessTokenTtl: "10m", sessionMaxAge: "30d" } },
    ]);
    expect(c.tokens).toMatchObject({
      issuerUrl: "https://gatehouse.example.com",
      accessTokenTtlMs: 10 * 60_000,
      sessionAbsoluteTtlMs: 30 * 86_400_000,
    });
  });

  it("reports every bad token setting at once, naming where it came from", () => {
    let err: unknown;
    try {
      resolveConfig([
        {
          name: "flags",
          settings: {
            ...base,
            accessTokenTtl: "2h",
            refreshTokenIdleTtl: "1h",
            sessionMaxAge: "forever",
            issuerUrl: "http://insecure.example",
          },
        },
      ]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems.join("\n");
    expect(problems).toContain("refreshTokenIdleTtl (from flags): must not be shorter than accessTokenTtl");
    expect(problems).toContain("sessionMaxAge (from flags): expected a duration");
    expect(problems).toContain("issuerUrl (from flags): expected an https:// URL");
  });

  it("parses durations with one unit and refuses anything else", () => {
    expect(parseDuration("90s")).toBe(90_000);
    expect(parseDuration("15m")).toBe(900_000);
    expect(parseDuration("24h")).toBe(86_400_000);
    expect(parseDuration("7d")).toBe(604_800_000);
    for (const bad of ["15", "1h30m", "-5m", "m", 15, "1.5h"]) expect(parseDuration(bad)).toBeUndefined();
  });
});

describe("rate limits for anonymous endpoints", () => {
  it("allows max events per key in the window, then refuses without recording until it slides", () => {
    let t = 0;
    const r = new RateLimit(() => t, 2, 1_000);
    expect([r.take("a"), r.take("a"), r.take("a"), r.take("b")]).toEqual([true, true, false, true]);
    t = 999;
    expect(r.take("a")).toBe(false);
    t = 1_000;
    expect(r.take("a")).toBe(true);
  });
});

describe("sign-in throttling", () => {
  it("blocks a user after five failures in the window and lets them in once it has passed", () => {
    let t = 0;
    const th = new LoginThrottle(() => t);
    for (let i = 0; i < 5; i++) {
      expect(th.check("alice", "10.0.0.1").kind).toBe("allowed");
      th.fail("alice", "10.0.0.1");
    }
    expect(th.check("alice", "10.0.0.2")).toEqual({ kind: "throttled", by: "user", retryAfterMs: 300_000 });
    t += 299_999;
    expect(th.check("alice", "10.0.0.2").kind).toBe("throttled");
    t += 1;
    expect(th.check("alice", "10.0.0.2").kind).toBe("allowed");
  });

  it("blocks an address guessing across many users", () => {
    const th = new LoginThrottle(() => 0);
    for (let i = 0; i < 20; i++) th.fail(`user-${i}`, "10.0.0.9");
    expect(th.check("someone-new", "10.0.0.9")).toMatchObject({ kind: "throttled", by: "address" });
    expect(th.check("someone-new", "10.0.0.8").kind).toBe("allowed");
  });

  it("clears a user's failures on success but not the address's", () => {
    const th = new LoginThrottle(() => 0, {
      windowMs: 1_000,
      maxFailuresPerUser: 2,
      maxFailuresPerAddress: 3,
    });
    th.fail("bob", "a");
    th.fail("bob", "a");
    expect(th.check("bob", "b").kind).toBe("throttled");
    th.succeed("bob");
    expect(th.check("bob", "b").kind).toBe("allowed");
    th.fail("carol", "a");
    expect(th.check("dave", "a")).toMatchObject({ kind: "throttled", by: "address" });
  });
});
