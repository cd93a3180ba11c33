import { describe, expect, it } from "vitest";
import { renewalDueAt, unverifiedTokenTimes } from "./token.js";

const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString("base64url");
const jwt = (claims: unknown): string => `${b64({ alg: "RS256" })}.${b64(claims)}.c2lnbmF0dXJl`;

describe("unverifiedTokenTimes", () => {
  it("reads iat and exp from a JWT payload, in milliseconds", () => {
    expect(unverifiedTokenTimes(jwt({ iat: 1_700_000_000, exp: 1_700_000_600, sub: "x" }))).toEqual({
      issuedAt: 1_700_000_000_000,
      expiresAt: 1_700_000_600_000,
    });
  });

  it.each([
    ["a static token", "abcdef0123456789"],
    ["two parts", `${b64({})}.${b64({ iat: 1, exp: 2 })}`],
    ["a payload that is not JSON", `${b64({})}.bm90IGpzb24.x`],
    ["a payload that is not an object", `${b64({})}.${b64(42)}.x`],
    ["no iat", jwt({ exp: 2 })],
    ["no exp", jwt({ iat: 1 })],
    ["string times", jwt({ iat: "1", exp: "2" })],
    ["exp not after iat", jwt({ iat: 5, exp: 5 })],
  ])("is undefined for %s", (_what, token) => {
    expect(unverifiedTokenTimes(token)).toBeUndefined();
  });
});

describe("renewalDueAt", () => {
  it("is two thirds into the lifetime", () => {
    expect(renewalDueAt({ issuedAt: 0, expiresAt: 600_000 })).toBe(400_000);
    expect(renewalDueAt({ issuedAt: 1_000, expiresAt: 1_000 + 365 * 86_400_000 })).toBe(
      1_000 + 243 * 86_400_000 + 8 * 3_600_000,
    );
  });
});
