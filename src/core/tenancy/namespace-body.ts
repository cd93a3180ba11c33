import { decodeEnvelope, readFields } from "../k8s/protobuf.js";

/** What a space needs from a Namespace create body: its name, labels and annotations. */
export interface NamespaceRequest {
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

function bytes(v: bigint | Buffer): Buffer {
  return Buffer.isBuffer(v) ? v : Buffer.alloc(0);
}

function stringMap(entries: Buffer[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of entries) {
    const f = readFields(e);
    const key = f.find((x) => x.num === 1);
    const value = f.find((x) => x.num === 2);
    if (key) out[bytes(key.value).toString("utf8")] = value ? bytes(value.value).toString("utf8") : "";
  }
  return out;
}

/**
 * Read a Namespace from a create body as kubectl sends it: JSON, or (kubectl 1.3x) Kubernetes
 * protobuf, where Namespace {1: ObjectMeta} and ObjectMeta {1: name, 11: labels, 12: annotations}
 * (maps as repeated {1: key, 2: value}). Throws on anything else.
 */
export function readNamespaceBody(contentType: string, body: Buffer): NamespaceRequest {
  if (contentType === "application/json") {
    const v = JSON.parse(body.toString("utf8")) as unknown;
    if (typeof v !== "object" || v === null || Array.isArray(v))
      throw new Error("the body is not a JSON object");
    const meta = (v as Record<string, unknown>)["metadata"];
    const m = (typeof meta === "object" && meta !== null ? meta : {}) as Record<string, unknown>;
    const strings = (x: unknown): Record<string, string> =>
      typeof x === "object" && x !== null
        ? (Object.fromEntries(Object.entries(x).filter(([, s]) => typeof s === "string")) as Record<
            string,
            string
          >)
        : {};
    return {
      name: typeof m["name"] === "string" ? m["name"] : "",
      labels: strings(m["labels"]),
      annotations: strings(m["annotations"]),
    };
  }
  if (contentType === "application/vnd.kubernetes.protobuf") {
    const env = decodeEnvelope(body);
    if (env.kind !== "Namespace") throw new Error(`the body is a ${env.kind}, not a Namespace`);
    const meta = readFields(bytes(readFields(env.raw).find((f) => f.num === 1)?.value ?? Buffer.alloc(0)));
    const all = (n: number): Buffer[] => meta.filter((f) => f.num === n).map((f) => bytes(f.value));
    return {
      name: all(1)[0]?.toString("utf8") ?? "",
      labels: stringMap(all(11)),
      annotations: stringMap(all(12)),
    };
  }
  throw new Error(`unsupported media type ${JSON.stringify(contentType)}`);
}
