import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { SecretsError } from "./errors.js";
import { newKeyFileText, parseKeys } from "./keyfile.js";

const k32 = randomBytes(32).toString("base64");
const file = { name: "/etc/gh/keys", separator: "line" } as const;
const env = { name: "GATEHOUSE_ENCRYPTION_KEYS", separator: "semicolon" } as const;

function failure(text: string, source: typeof file | typeof env = file): SecretsError {
  try {
    parseKeys(text, source);
  } catch (e) {
    if (e instanceof SecretsError) return e;
    throw e;
  }
  throw new Error("expected a SecretsError");
}

describe("key files", () => {
  it("reads ID:BASE64 lines in order, skipping comments and blank lines", () => {
    const k2 = randomBytes(32).toString("base64");
    const keys = parseKeys(`# rotated 2025-01\n\nnew:${k2}\n  old : ${k32}  \r\n`, file);
    expect(keys.map((k) => k.id)).toEqual(["new", "old"]);
    expect(keys[0]?.key.toString("base64")).toBe(k2);
  });

  it("reads ;-separated entries from the environment", () => {
    const k2 = randomBytes(32).toString("base64");
    expect(parseKeys(`b:${k2};a:${k32};`, env).map((k) => k.id)).toEqual(["b", "a"]);
  });

  it.each([
    ["a line without a colon", `just-some-text`, "/etc/gh/keys:2: expected ID:BASE64-32-BYTES"],
    ["a key id with bad characters", `bad id!:${k32}`, "/etc/gh/keys:2: key id must be"],
    ["a key that is not base64", `a:not base64!`, '/etc/gh/keys:2: key "a" is not valid base64'],
    ["a 16-byte key", `a:${randomBytes(16).toString("base64")}`, '/etc/gh/keys:2: key "a" is 16 bytes'],
    ["a 33-byte key", `a:${randomBytes(33).toString("base64")}`, '/etc/gh/keys:2: key "a" is 33 bytes'],
    ["a duplicate id", `x:${k32}\nx:${k32}`, '/etc/gh/keys:3: key id "x" appears twice'],
  ])("rejects %s, naming the file and line", (_what, line, message) => {
    const e = failure(`# header\n${line}`);
    expect(e.code).toBe("MalformedKeys");
    expect(e.message).toContain(message);
  });

  it("reports every bad line at once and never quotes key material", () => {
    const short = randomBytes(16).toString("base64");
    const e = failure(`a:${short}\nb\nc:${k32}`);
    expect(e.message).toContain("/etc/gh/keys:1:");
    expect(e.message).toContain("/etc/gh/keys:2:");
    expect(e.message).not.toContain(short);
  });

  it("names the entry of GATEHOUSE_ENCRYPTION_KEYS", () => {
    expect(failure(`a:${k32};b:short`, env).message).toContain("GATEHOUSE_ENCRYPTION_KEYS entry 2:");
  });

  it("rejects a file with no keys", () => {
    expect(failure("# nothing here\n").code).toBe("NoKeys");
  });

  it("writes new key files that it can read back", () => {
    const key = randomBytes(32);
    const keys = parseKeys(newKeyFileText("key-1", key), file);
    expect(keys).toHaveLength(1);
    expect(keys[0]?.key.equals(key)).toBe(true);
  });
});
