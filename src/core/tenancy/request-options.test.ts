import { describe, expect, it } from "vitest";
import { dryRunOf, readDeleteOptions, DeleteOptionsError } from "./request-options.js";

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
const varint = (num: number, v: number): Buffer => Buffer.from([(num << 3) | 0, v]);
const envelope = (kind: string, raw: Buffer): Buffer =>
  Buffer.concat([
    Buffer.from("k8s\0", "binary"),
    field(1, Buffer.concat([str(1, "v1"), str(2, kind)])),
    field(2, raw),
  ]);

describe("dry run options", () => {
  it("is a dry run only when every value is All, and not without values", () => {
    expect(dryRunOf([], "CreateOptions")).toEqual({ dryRun: false });
    expect(dryRunOf(["All"], "CreateOptions")).toEqual({ dryRun: true });
    expect(dryRunOf(["All", "All"], "DeleteOptions")).toEqual({ dryRun: true });
  });

  it("answers any other value with kube-apiserver's 422 for the options kind", () => {
    expect(dryRunOf([""], "CreateOptions")).toEqual({
      invalid: {
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message:
          'CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: [""]: supported values: "All"',
        reason: "Invalid",
        details: {
          group: "meta.k8s.io",
          kind: "CreateOptions",
          causes: [
            {
              reason: "FieldValueNotSupported",
              message: 'Unsupported value: [""]: supported values: "All"',
              field: "dryRun",
            },
          ],
        },
        code: 422,
      },
    });
    const d = dryRunOf(["All", "foo"], "DeleteOptions");
    expect("invalid" in d && d.invalid.details?.kind).toBe("DeleteOptions");
  });
});

describe("reading DeleteOptions", () => {
  const none = new URLSearchParams();
  it("reads kubectl's JSON body", () => {
    const body = Buffer.from(
      '{"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Background","dryRun":["All"],"preconditions":{"uid":"u-1"},"gracePeriodSeconds":0}',
    );
    expect(readDeleteOptions("application/json", body, none)).toEqual({
      kind: "DeleteOptions",
      apiVersion: "v1",
      propagationPolicy: "Background",
      dryRun: ["All"],
      preconditions: { uid: "u-1" },
      gracePeriodSeconds: 0,
    });
  });

  it("reads a protobuf body", () => {
    const raw = Buffer.concat([
      varint(1, 5),
      field(2, Buffer.concat([str(1, "u-1"), str(2, "77")])),
      str(4, "Foreground"),
      str(5, "All"),
    ]);
    expect(
      readDeleteOptions("application/vnd.kubernetes.protobuf", envelope("DeleteOptions", raw), none),
    ).toEqual({
      kind: "DeleteOptions",
      apiVersion: "v1",
      gracePeriodSeconds: 5,
      preconditions: { uid: "u-1", resourceVersion: "77" },
      propagationPolicy: "Foreground",
      dryRun: ["All"],
    });
    expect(() =>
      readDeleteOptions("application/vnd.kubernetes.protobuf", envelope("Namespace", Buffer.alloc(0)), none),
    ).toThrow(DeleteOptionsError);
  });

  it("reads the query when there is no body", () => {
    const q = new URLSearchParams("dryRun=All&propagationPolicy=Orphan&gracePeriodSeconds=3");
    expect(readDeleteOptions("application/json", Buffer.alloc(0), q)).toEqual({
      kind: "DeleteOptions",
      apiVersion: "v1",
      dryRun: ["All"],
      propagationPolicy: "Orphan",
      gracePeriodSeconds: 3,
    });
  });

  it("takes a dry run from the query even with a body, so it is never carried out for real", () => {
    const body = Buffer.from('{"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Background"}');
    expect(readDeleteOptions("application/json", body, new URLSearchParams("dryRun=All")).dryRun).toEqual([
      "All",
    ]);
  });

  it("refuses bodies it cannot read, and other media types", () => {
    expect(() => readDeleteOptions("application/json", Buffer.from("{"), none)).toThrow(DeleteOptionsError);
    expect(() => readDeleteOptions("application/json", Buffer.from('{"dryRun":"All"}'), none)).toThrow(
      /dryRun: must be a list/,
    );
    try {
      readDeleteOptions("application/yaml", Buffer.from("dryRun: [All]"), none);
      expect.unreachable();
    } catch (e) {
      expect((e as DeleteOptionsError).unsupportedMediaType).toBe(true);
    }
  });
});
