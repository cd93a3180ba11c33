/**
 * Just enough of Kubernetes' protobuf encoding to read the few bodies the gateway must inspect
 * (kubectl sends SelfSubjectAccessReviews as protobuf). The envelope is "k8s\0" followed by a
 * runtime.Unknown message {1: typeMeta {1: apiVersion, 2: kind}, 2: raw}.
 */
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

export class ProtobufError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProtobufError";
  }
}

type Field = { num: number; wire: number; value: bigint | Buffer };

function readVarint(buf: Buffer, pos: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) throw new ProtobufError("truncated varint");
    const b = buf[pos++] as number;
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [result, pos];
    shift += 7n;
  }
  throw new ProtobufError("varint too long");
}

/** The top-level fields of one message; nested messages stay as bytes. */
export function readFields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const [key, p1] = readVarint(buf, pos);
    pos = p1;
    const num = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (wire === 0) {
      const [v, p2] = readVarint(buf, pos);
      out.push({ num, wire, value: v });
      pos = p2;
    } else if (wire === 2) {
      const [len, p2] = readVarint(buf, pos);
      const end = p2 + Number(len);
      if (end > buf.length) throw new ProtobufError("truncated field");
      out.push({ num, wire, value: buf.subarray(p2, end) });
      pos = end;
    } else if (wire === 1) {
      pos += 8;
    } else if (wire === 5) {
      pos += 4;
    } else throw new ProtobufError(`unsupported wire type ${wire}`);
  }
  return out;
}

function bytesField(fields: Field[], num: number): Buffer | undefined {
  const f = fields.find((x) => x.num === num && x.wire === 2);
  return f ? (f.value as Buffer) : undefined;
}

function stringField(fields: Field[], num: number): string | undefined {
  return bytesField(fields, num)?.toString("utf8");
}

/** Unwrap the "k8s\0" envelope: the object's apiVersion, kind and raw message bytes. */
export function decodeEnvelope(body: Buffer): { apiVersion: string; kind: string; raw: Buffer } {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC))
    throw new ProtobufError("not a Kubernetes protobuf body");
  const unknown = readFields(body.subarray(4));
  const typeMeta = readFields(bytesField(unknown, 1) ?? Buffer.alloc(0));
  return {
    apiVersion: stringField(typeMeta, 1) ?? "",
    kind: stringField(typeMeta, 2) ?? "",
    raw: bytesField(unknown, 2) ?? Buffer.alloc(0),
  };
}

export interface AccessReviewSpec {
  resourceAttributes?: {
    namespace: string;
    verb: string;
    group: string;
    version: string;
    resource: string;
    subresource: string;
    name: string;
  };
  nonResourceAttributes?: { path: string; verb: string };
}

/** authorization.k8s.io/v1 SelfSubjectAccessReview (fields: 1 metadata, 2 spec {1 resourceAttributes, 2 nonResourceAttributes}). */
export function decodeSelfSubjectAccessReview(body: Buffer): AccessReviewSpec {
  const env = decodeEnvelope(body);
  if (env.kind !== "SelfSubjectAccessReview")
    throw new ProtobufError(`expected SelfSubjectAccessReview, got ${env.kind}`);
  const spec = readFields(bytesField(readFields(env.raw), 2) ?? Buffer.alloc(0));
  const ra = bytesField(spec, 1);
  const nra = bytesField(spec, 2);
  const out: AccessReviewSpec = {};
  if (ra) {
    const f = readFields(ra);
    out.resourceAttributes = {
      namespace: stringField(f, 1) ?? "",
      verb: stringField(f, 2) ?? "",
      group: stringField(f, 3) ?? "",
      version: stringField(f, 4) ?? "",
      resource: stringField(f, 5) ?? "",
      subresource: stringField(f, 6) ?? "",
      name: stringField(f, 7) ?? "",
    };
  }
  if (nra) {
    const f = readFields(nra);
    out.nonResourceAttributes = { path: stringField(f, 1) ?? "", verb: stringField(f, 2) ?? "" };
  }
  return out;
}
