import { describe, expect, it } from "vitest";
import { base32Decode, base32Encode, hotp, matchTotp, otpauthUri, totpStep } from "./totp.js";

// RFC 6238 Appendix B: the seeds are the ASCII strings below; T0 = 0, X = 30 s, 8 digits.
const seeds = {
  sha1: Buffer.from("12345678901234567890"),
  sha256: Buffer.from("12345678901234567890123456789012"),
  sha512: Buffer.from("1234567890123456789012345678901234567890123456789012345678901234"),
};
const vectors: [number, string, string, string][] = [
  [59, "94287082", "46119246", "90693936"],
  [1111111109, "07081804", "68084774", "25091201"],
  [1111111111, "14050471", "67062674", "99943326"],
  [1234567890, "89005924", "91819424", "93441116"],
  [2000000000, "69279037", "90698825", "38618901"],
  [20000000000, "65353130", "77737706", "47863826"],
];

describe("TOTP (RFC 6238)", () => {
  it.each(vectors)("Appendix B at T=%i", (t, sha1, sha256, sha512) => {
    const step = totpStep(t * 1000);
    expect(hotp(seeds.sha1, step, 8, "sha1")).toBe(sha1);
    expect(hotp(seeds.sha256, step, 8, "sha256")).toBe(sha256);
    expect(hotp(seeds.sha512, step, 8, "sha512")).toBe(sha512);
  });

  it("HOTP matches RFC 4226 Appendix D", () => {
    const want = [
      "755224",
      "287082",
      "359152",
      "969429",
      "338314",
      "254676",
      "287922",
      "162583",
      "399871",
      "520489",
    ];
    expect(want.map((_, i) => hotp(seeds.sha1, i))).toEqual(want);
  });

  it("accepts the current step and one either side, nothing further", () => {
    const t = 1111111111_000;
    const s = totpStep(t);
    expect(matchTotp(seeds.sha1, hotp(seeds.sha1, s), t, 0)).toBe(s);
    expect(matchTotp(seeds.sha1, hotp(seeds.sha1, s - 1), t, 0)).toBe(s - 1);
    expect(matchTotp(seeds.sha1, hotp(seeds.sha1, s + 1), t, 0)).toBe(s + 1);
    expect(matchTotp(seeds.sha1, hotp(seeds.sha1, s - 2), t, 0)).toBeUndefined();
    expect(matchTotp(seeds.sha1, hotp(seeds.sha1, s + 2), t, 0)).toBeUndefined();
  });

  it("refuses a code of a step already used, or earlier", () => {
    const t = 1234567890_000;
    const s = totpStep(t);
    expect(matchTotp(seeds.sha1, hotp(seeds.sha1, s), t, s)).toBeUndefined();
    expect(matchTotp(seeds.sha1, hotp(seeds.sha1, s - 1), t, s)).toBeUndefined();
    expect(matchTotp(seeds.sha1, hotp(seeds.sha1, s + 1), t, s)).toBe(s + 1);
  });

  it.each(["", "12345", "1234567", "abcdef", " 12345", "123 456"])("refuses malformed code %j", (code) => {
    expect(matchTotp(seeds.sha1, code, 59_000, 0)).toBeUndefined();
  });
});

describe("base32 (RFC 4648 test vectors)", () => {
  it.each([
    ["", ""],
    ["f", "MY"],
    ["fo", "MZXQ"],
    ["foo", "MZXW6"],
    ["foob", "MZXW6YQ"],
    ["fooba", "MZXW6YTB"],
    ["foobar", "MZXW6YTBOI"],
  ])("%j ↔ %j", (plain, enc) => {
    expect(base32Encode(Buffer.from(plain))).toBe(enc);
    expect(base32Decode(enc)?.toString()).toBe(plain);
    expect(base32Decode(enc.toLowerCase() + "===")?.toString()).toBe(plain);
  });

  it("refuses characters outside the alphabet", () => {
    expect(base32Decode("MZXW1")).toBeUndefined();
  });
});

it("writes an otpauth:// URI authenticator apps read", () => {
  expect(otpauthUri("Gatehouse", "erin", "JBSWY3DPEHPK3PXP")).toBe(
    "otpauth://totp/Gatehouse%3Aerin?secret=JBSWY3DPEHPK3PXP&issuer=Gatehouse&algorithm=SHA1&digits=6&period=30",
  );
});
