/**
 * Just enough of Kubernetes' protobuf encoding to read an object's metadata, so that objectRef is
 * completed for protobuf requests (kubectl sends built-in kinds that way) as kube-apiserver does.
 * The envelope is "k8s\0" + runtime.Unknown{typeMeta=1, raw=2}; every top-level object has its
 * ObjectMeta as field 1, and ObjectMeta has name=1, namespace=3, uid=5, resourceVersion=6.
 */
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

export interface ObjectMetaFacts {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
}

export function protobufObjectMeta(body: Buffer): ObjectMetaFacts | undefined {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC)) return undefined;
  try {
    const raw = field(body.subarray(4), 2);
    const meta = raw && field(raw, 1);
    if (!meta) return undefined;
    const out: ObjectMetaFacts = {};
    const keys: [number, keyof ObjectMetaFacts][] = [
      [1, "name"],
      [3, "namespace"],
      [5, "uid"],
      [6, "resourceVersion"],
    ];
    for (const [n, key] of keys) {
      const v = field(meta, n);
      if (v && v.length > 0) out[key] = v.toString("utf8");
    }
    return out;
  } catch {
    return undefined;
  }
}

/** The first length-delimited field `n` of a message, or undefined. Throws on malformed input. */
function field(buf: Buffer, n: number): Buffer | undefined {
  let i = 0;
  const varint = (): number => {
    let v = 0;
    let shift = 0;
    for (;;) {
      if (i >= buf.length || shift > 49) throw new Error("bad varint");
      const b = buf[i++] as number;
      v += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return v;
      shift += 7;
    }
  };
  while (i < buf.length) {
    const tag = varint();
    const wire = tag % 8;
    const num = Math.floor(tag / 8);
    if (wire === 0) varint();
    else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else if (wire === 2) {
      const len = varint();
      if (i + len > buf.length) throw new Error("truncated");
      if (num === n) return buf.subarray(i, i + len);
      i += len;
    } else throw new Error("unsupported wire type");
  }
  return undefined;
}
