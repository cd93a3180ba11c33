import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { SecretsError } from "./errors.js";
import { KeyRing, isSealed } from "./keyring.js";

const key = (id: string) => ({ id, key: randomBytes(32) });
const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    return e instanceof SecretsError ? e.code : `not a SecretsError: ${String(e)}`;
  }
  return undefined;
};

describe("KeyRing", () => {
  const a = key("a");
  const b = key("b");

  it("opens what it sealed, with the same associated data", () => {
    const ring = KeyRing.create([a]);
    const ct = ring.seal("s3cret-token", "Cluster/prod/credentials");
    expect(ring.open(ct, "Cluster/prod/credentials")).toBe("s3cret-token");
    expect(isSealed(ct)).toBe(true);
  });

  it("writes self-describing v1:KEYID:NONCE:CIPHERTEXT values that do not contain the plaintext", () => {
    const ring = KeyRing.create([a]);
    const ct = ring.seal("s3cret-token", "x");
    const [v, id, nonce, body] = ct.split(":");
    expect(v).toBe("v1");
    expect(id).toBe("a");
    expect(Buffer.from(nonce as string, "base64")).toHaveLength(12);
    expect(Buffer.from(body as string, "base64")).toHaveLength("s3cret-token".length + 16);
    expect(ct).not.toContain("s3cret");
  });

  it("uses a fresh nonce each time, so equal secrets give different ciphertexts", () => {
    const ring = KeyRing.create([a]);
    expect(ring.seal("same", "x")).not.toBe(ring.seal("same", "x"));
  });

  it("refuses a ciphertext moved to another object (wrong associated data)", () => {
    const ring = KeyRing.create([a]);
    const ct = ring.seal("tok", "Cluster/prod/credentials");
    expect(codeOf(() => ring.open(ct, "Cluster/evil/credentials"))).toBe("DecryptionFailed");
  });

  it("refuses a tampered ciphertext, nonce or tag", () => {
    const ring = KeyRing.create([a]);
    const ct = ring.seal("a longer secret value", "x");
    const [v, id, nonce, body] = ct.split(":") as [string, string, string, string];
    const flip = (b64: string, i: number): string => {
      const buf = Buffer.from(b64, "base64");
      buf[i] = (buf[i] as number) ^ 1;
      return buf.toString("base64");
    };
    const bodyLen = Buffer.from(body, "base64").length;
    for (const bad of [
      [v, id, nonce, flip(body, 0)],
      [v, id, nonce, flip(body, bodyLen - 1)],
      [v, id, flip(nonce, 3), body],
    ])
      expect(codeOf(() => ring.open(bad.join(":"), "x"))).toBe("DecryptionFailed");
    expect(codeOf(() => ring.open(`${v}:${id}:${nonce}:${body.slice(0, 8)}`, "x"))).toBe(
      "MalformedCiphertext",
    );
    expect(codeOf(() => ring.open("plaintext", "x"))).toBe("MalformedCiphertext");
    expect(codeOf(() => ring.open(`v2:${id}:${nonce}:${body}`, "x"))).toBe("MalformedCiphertext");
  });

  it("says which key is missing for a ciphertext under an unknown key id, naming the object", () => {
    const old = KeyRing.create([a]).seal("tok", "Cluster/prod/credentials");
    let err: unknown;
    try {
      KeyRing.create([b]).open(old, "Cluster/prod/credentials");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SecretsError);
    expect((err as SecretsError).code).toBe("UnknownKey");
    expect((err as SecretsError).message).toContain('key "a"');
    expect((err as SecretsError).message).toContain("Cluster/prod/credentials");
  });

  it("rotates: the new first key encrypts, the old one still decrypts, reseal moves values to the new key", () => {
    const before = KeyRing.create([a]);
    const old = before.seal("tok", "x");
    const rotated = KeyRing.create([b, a]);
    expect(rotated.primaryKeyId).toBe("b");
    expect(rotated.open(old, "x")).toBe("tok");
    expect(rotated.isCurrent(old)).toBe(false);
    const fresh = rotated.reseal(old, "x");
    expect(rotated.keyIdOf(fresh)).toBe("b");
    expect(rotated.isCurrent(fresh)).toBe(true);
    // After the old key is removed, only re-sealed values open.
    const after = KeyRing.create([b]);
    expect(after.open(fresh, "x")).toBe("tok");
    expect(codeOf(() => after.open(old, "x"))).toBe("UnknownKey");
  });

  it("never shows key bytes when logged or serialised", () => {
    const ring = KeyRing.create([a, b]);
    const shown = JSON.stringify(ring) + String(ring) + JSON.stringify(Object.entries(ring));
    for (const k of [a, b]) {
      expect(shown).not.toContain(k.key.toString("base64"));
      expect(shown).not.toContain(k.key.toString("hex"));
    }
    expect(JSON.parse(JSON.stringify(ring))).toEqual({ primaryKeyId: "a", keyIds: ["a", "b"] });
  });

  it("rejects an empty key list, short keys and duplicate ids", () => {
    expect(codeOf(() => KeyRing.create([]))).toBe("NoKeys");
    expect(codeOf(() => KeyRing.create([{ id: "a", key: randomBytes(16) }]))).toBe("MalformedKeys");
    expect(codeOf(() => KeyRing.create([a, { id: "a", key: randomBytes(32) }]))).toBe("MalformedKeys");
  });

  it("uses the nonces its random source gives (effects passed in)", () => {
    const ring = KeyRing.create([a], (n) => Buffer.alloc(n, 7));
    expect(ring.seal("x", "y").split(":")[2]).toBe(Buffer.alloc(12, 7).toString("base64"));
  });
});
