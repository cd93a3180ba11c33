import { describe, expect, it } from "vitest";
import { readNamespaceBody } from "./namespace-body.js";

/** Protobuf helpers: a length-delimited field and the "k8s\0" runtime.Unknown envelope. */
function field(num: number, bytes: Buffer): Buffer {
  const len: number[] = [];
  let n = bytes.length;
  do {
    len.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
    n >>= 7;
  } while (n > 0);
  return Buffer.concat([Buffer.from([(num << 3) | 2, ...len]), bytes]);
}
const str = (num: number, s: string): Buffer => field(num, Buffer.from(s));
const entry = (num: number, k: string, v: string): Buffer =>
  field(num, Buffer.concat([str(1, k), str(2, v)]));

describe("reading a Namespace create body", () => {
  it("reads kubectl's protobuf: name, labels and annotations", () => {
    const meta = Buffer.concat([
      str(1, "acme-web"),
      entry(11, "team", "a"),
      entry(11, "gatehouse.io/tenant", "acme"),
      entry(12, "note", "x"),
    ]);
    const raw = field(1, meta);
    const typeMeta = Buffer.concat([str(1, "v1"), str(2, "Namespace")]);
    const body = Buffer.concat([Buffer.from("k8s\0", "binary"), field(1, typeMeta), field(2, raw)]);
    expect(readNamespaceBody("application/vnd.kubernetes.protobuf", body)).toEqual({
      name: "acme-web",
      labels: { team: "a", "gatehouse.io/tenant": "acme" },
      annotations: { note: "x" },
    });
  });

  it("reads JSON and keeps only string labels", () => {
    const body = Buffer.from(JSON.stringify({ metadata: { name: "n", labels: { a: "b", c: 1 } } }));
    expect(readNamespaceBody("application/json", body)).toEqual({
      name: "n",
      labels: { a: "b" },
      annotations: {},
    });
  });

  it.each([
    ["application/json", "[1]", /not a JSON object/],
    ["application/vnd.kubernetes.protobuf", "nope", /not a Kubernetes protobuf body/],
    ["application/yaml", "a: b", /unsupported media type/],
  ])("refuses %s %j", (type, text, msg) => {
    expect(() => readNamespaceBody(type, Buffer.from(text))).toThrow(msg);
  });

  it("refuses a protobuf body that holds another kind", () => {
    const typeMeta = Buffer.concat([str(1, "v1"), str(2, "Pod")]);
    const body = Buffer.concat([
      Buffer.from("k8s\0", "binary"),
      field(1, typeMeta),
      field(2, Buffer.alloc(0)),
    ]);
    expect(() => readNamespaceBody("application/vnd.kubernetes.protobuf", body)).toThrow(
      /a Pod, not a Namespace/,
    );
  });
});
