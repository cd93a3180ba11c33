import { describe, expect, it } from "vitest";
import { decodeSelfSubjectAccessReview, ProtobufError } from "./protobuf.js";

/** Encode protobuf by hand (varint keys, length-delimited fields) to build test bodies. */
function field(num: number, value: Buffer | string): Buffer {
  const v = typeof value === "string" ? Buffer.from(value) : value;
  return Buffer.concat([Buffer.from([(num << 3) | 2, v.length]), v]);
}
const envelope = (kind: string, raw: Buffer): Buffer =>
  Buffer.concat([
    Buffer.from("k8s\0", "latin1"),
    field(1, Buffer.concat([field(1, "authorization.k8s.io/v1"), field(2, kind)])),
    field(2, raw),
  ]);

describe("Kubernetes protobuf bodies", () => {
  it("reads a SelfSubjectAccessReview's resource attributes as kubectl encodes them", () => {
    const ra = Buffer.concat([
      field(1, "default"),
      field(2, "create"),
      field(3, "apps"),
      field(5, "deployments"),
      field(7, "web"),
    ]);
    const body = envelope(
      "SelfSubjectAccessReview",
      Buffer.concat([field(1, Buffer.alloc(0)), field(2, field(1, ra))]),
    );
    expect(decodeSelfSubjectAccessReview(body)).toEqual({
      resourceAttributes: {
        namespace: "default",
        verb: "create",
        group: "apps",
        version: "",
        resource: "deployments",
        subresource: "",
        name: "web",
      },
    });
  });
  it("reads non-resource attributes", () => {
    const body = envelope(
      "SelfSubjectAccessReview",
      field(2, field(2, Buffer.concat([field(1, "/healthz"), field(2, "get")]))),
    );
    expect(decodeSelfSubjectAccessReview(body)).toEqual({
      nonResourceAttributes: { path: "/healthz", verb: "get" },
    });
  });
  it("refuses bodies without the envelope, of another kind, or truncated", () => {
    expect(() => decodeSelfSubjectAccessReview(Buffer.from("{}"))).toThrow(ProtobufError);
    expect(() => decodeSelfSubjectAccessReview(envelope("Pod", Buffer.alloc(0)))).toThrow(
      /expected SelfSubjectAccessReview/,
    );
    const cut = envelope("SelfSubjectAccessReview", field(2, field(1, field(2, "create")))).subarray(0, 40);
    expect(() => decodeSelfSubjectAccessReview(cut)).toThrow(ProtobufError);
  });
});
