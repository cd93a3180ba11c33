import { failure, type Status } from "../k8s/index.js";
import { decodeEnvelope, readFields } from "../k8s/protobuf.js";

/**
 * The options of a tenant's namespace create and delete, as kube-apiserver reads them: `dryRun`
 * (query for a create; for a delete the DeleteOptions body, else the query) and the rest of a
 * delete's DeleteOptions, which Gatehouse passes on to the cluster unchanged in meaning.
 */

/** Whether the request is a dry run; an unsupported value is kube-apiserver's 422 for the options kind. */
export function dryRunOf(
  values: readonly string[],
  kind: "CreateOptions" | "DeleteOptions",
): { dryRun: boolean } | { invalid: Status } {
  if (values.length === 0) return { dryRun: false };
  if (values.every((v) => v === "All")) return { dryRun: true };
  const why = `Unsupported value: ${JSON.stringify(values)}: supported values: "All"`;
  return {
    invalid: failure("Invalid", `${kind}.meta.k8s.io "" is invalid: dryRun: ${why}`, {
      group: "meta.k8s.io",
      kind,
      causes: [{ reason: "FieldValueNotSupported", message: why, field: "dryRun" }],
    }),
  };
}

/** meta/v1 DeleteOptions as JSON; only the fields kube-apiserver defines are kept. */
export interface DeleteOptions {
  kind: "DeleteOptions";
  apiVersion: "v1";
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  orphanDependents?: boolean;
  propagationPolicy?: string;
  dryRun?: string[];
}

/** Thrown when a DeleteOptions body cannot be read (the caller answers 400 or 415). */
export class DeleteOptionsError extends Error {
  constructor(
    message: string,
    readonly unsupportedMediaType = false,
  ) {
    super(message);
    this.name = "DeleteOptionsError";
  }
}

/**
 * The DeleteOptions of a DELETE: from the body when there is one (JSON, or Kubernetes protobuf where
 * DeleteOptions {1: gracePeriodSeconds, 2: preconditions {1: uid, 2: resourceVersion},
 * 3: orphanDependents, 4: propagationPolicy, 5: dryRun}), otherwise from the query, as
 * kube-apiserver's delete handler does. `dryRun` is the union of both places, so that a dry run
 * asked for anywhere is never carried out for real.
 */
export function readDeleteOptions(contentType: string, body: Buffer, query: URLSearchParams): DeleteOptions {
  const out: DeleteOptions = { kind: "DeleteOptions", apiVersion: "v1" };
  const queryDryRun = query.getAll("dryRun");
  if (body.length === 0) {
    const grace = query.get("gracePeriodSeconds");
    if (grace !== null) {
      if (!/^-?\d+$/.test(grace))
        throw new DeleteOptionsError(`gracePeriodSeconds: not an integer: ${grace}`);
      out.gracePeriodSeconds = Number(grace);
    }
    const orphan = query.get("orphanDependents");
    if (orphan !== null) out.orphanDependents = orphan === "true";
    const policy = query.get("propagationPolicy");
    if (policy !== null) out.propagationPolicy = policy;
    if (queryDryRun.length > 0) out.dryRun = queryDryRun;
    return out;
  }
  let fromBody: Omit<DeleteOptions, "kind" | "apiVersion">;
  if (contentType === "application/json") fromBody = jsonOptions(body);
  else if (contentType === "application/vnd.kubernetes.protobuf") fromBody = protobufOptions(body);
  else throw new DeleteOptionsError(`unsupported media type ${JSON.stringify(contentType)}`, true);
  const dryRun = [...(fromBody.dryRun ?? []), ...queryDryRun];
  return { ...out, ...fromBody, ...(dryRun.length > 0 ? { dryRun } : {}) };
}

function jsonOptions(body: Buffer): Omit<DeleteOptions, "kind" | "apiVersion"> {
  let v: unknown;
  try {
    v = JSON.parse(body.toString("utf8"));
  } catch (e) {
    throw new DeleteOptionsError(`the body is not JSON: ${(e as Error).message}`);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw new DeleteOptionsError("the body is not a JSON object");
  const o = v as Record<string, unknown>;
  const out: Omit<DeleteOptions, "kind" | "apiVersion"> = {};
  const grace = o["gracePeriodSeconds"];
  if (grace !== undefined && grace !== null) {
    if (typeof grace !== "number" || !Number.isInteger(grace))
      throw new DeleteOptionsError("gracePeriodSeconds: must be an integer");
    out.gracePeriodSeconds = grace;
  }
  const pre = o["preconditions"];
  if (pre !== undefined && pre !== null) {
    if (typeof pre !== "object" || Array.isArray(pre))
      throw new DeleteOptionsError("preconditions: must be an object");
    const p = pre as Record<string, unknown>;
    out.preconditions = {};
    for (const f of ["uid", "resourceVersion"] as const) {
      const x = p[f];
      if (x === undefined || x === null) continue;
      if (typeof x !== "string") throw new DeleteOptionsError(`preconditions.${f}: must be a string`);
      out.preconditions[f] = x;
    }
  }
  const orphan = o["orphanDependents"];
  if (orphan !== undefined && orphan !== null) {
    if (typeof orphan !== "boolean") throw new DeleteOptionsError("orphanDependents: must be true or false");
    out.orphanDependents = orphan;
  }
  const policy = o["propagationPolicy"];
  if (policy !== undefined && policy !== null) {
    if (typeof policy !== "string") throw new DeleteOptionsError("propagationPolicy: must be a string");
    out.propagationPolicy = policy;
  }
  const dry = o["dryRun"];
  if (dry !== undefined && dry !== null) {
    if (!Array.isArray(dry) || !dry.every((d) => typeof d === "string"))
      throw new DeleteOptionsError("dryRun: must be a list of strings");
    out.dryRun = dry as string[];
  }
  return out;
}

function protobufOptions(body: Buffer): Omit<DeleteOptions, "kind" | "apiVersion"> {
  const str = (v: bigint | Buffer): string => (Buffer.isBuffer(v) ? v.toString("utf8") : "");
  const out: Omit<DeleteOptions, "kind" | "apiVersion"> = {};
  try {
    const env = decodeEnvelope(body);
    if (env.kind !== "DeleteOptions") throw new Error(`the body is a ${env.kind}, not DeleteOptions`);
    for (const f of readFields(env.raw)) {
      if (f.num === 1 && typeof f.value === "bigint")
        out.gracePeriodSeconds = Number(BigInt.asIntN(64, f.value));
      else if (f.num === 2 && Buffer.isBuffer(f.value)) {
        out.preconditions = {};
        for (const p of readFields(f.value)) {
          if (p.num === 1) out.preconditions.uid = str(p.value);
          if (p.num === 2) out.preconditions.resourceVersion = str(p.value);
        }
      } else if (f.num === 3 && typeof f.value === "bigint") out.orphanDependents = f.value !== 0n;
      else if (f.num === 4) out.propagationPolicy = str(f.value);
      else if (f.num === 5) out.dryRun = [...(out.dryRun ?? []), str(f.value)];
    }
  } catch (e) {
    throw new DeleteOptionsError((e as Error).message);
  }
  return out;
}
