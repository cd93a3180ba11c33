import { describe, expect, it } from "vitest";
import { encodeExtraKey } from "./headers.js";

describe("encodeExtraKey", () => {
  it("percent-encodes extra keys as client-go does, lower-cased, the same on every call", () => {
    const cases: [string, string][] = [
      ["gatehouse.io/access-key", "gatehouse.io%2Faccess-key"],
      ["Scopes", "scopes"],
      ["a b!'()*", "a%20b%21%27%28%29%2A"],
      ["ünïcode", "%C3%BCn%C3%AFcode"],
    ];
    for (const [key, name] of cases) {
      expect(encodeExtraKey(key)).toBe(name);
      expect(encodeExtraKey(key)).toBe(name); // the remembered name equals the computed one
    }
  });

  it("stays correct past the bound of remembered names", () => {
    for (let i = 0; i < 2_500; i++) expect(encodeExtraKey(`k/${i}`)).toBe(`k%2F${i}`);
    expect(encodeExtraKey("gatehouse.io/access-key")).toBe("gatehouse.io%2Faccess-key");
  });
});
