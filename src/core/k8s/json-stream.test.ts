import { describe, expect, it } from "vitest";
import { JsonObjectSplitter } from "./json-stream.js";

describe("splitting a JSON watch stream into objects", () => {
  const events = [
    { type: "ADDED", object: { metadata: { name: "a", annotations: { x: 'brace } and "quote" \\ back' } } } },
    { type: "MODIFIED", object: { list: [1, { y: "]" }], name: "ünïcødé" } },
  ];
  const stream = Buffer.from(events.map((e) => JSON.stringify(e) + "\n").join(""));

  it("returns each object whole, whatever the chunk boundaries (every split point)", () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const s = new JsonObjectSplitter();
      const got = [...s.push(stream.subarray(0, cut)), ...s.push(stream.subarray(cut))];
      expect(got.map((t) => JSON.parse(t))).toEqual(events);
      expect(s.idle).toBe(true);
    }
  });

  it("returns objects byte by byte too, and knows when one is half read", () => {
    const s = new JsonObjectSplitter();
    const got: string[] = [];
    for (let i = 0; i < stream.length; i++) {
      got.push(...s.push(stream.subarray(i, i + 1)));
      if (i === 10) expect(s.idle).toBe(false);
    }
    expect(got.map((t) => JSON.parse(t))).toEqual(events);
  });

  it("refuses what is not a stream of objects, and objects over the limit", () => {
    expect(() => new JsonObjectSplitter().push(Buffer.from('["a"]'))).toThrow(/expected a JSON object/);
    const small = new JsonObjectSplitter(16);
    expect(() => small.push(Buffer.from('{"a":"0123456789abcdefghij'))).toThrow(/exceeds 16 bytes/);
  });
});
