import type { IncomingMessage } from "node:http";
import { HttpError } from "./errors.js";

/**
 * Read a request body up to `limit` bytes. A declared or actual size over the limit is a 413 and
 * the rest of the body is not buffered.
 */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > limit)
    throw new HttpError("RequestEntityTooLarge", `request body too large: limit is ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > limit) {
      req.destroy();
      throw new HttpError("RequestEntityTooLarge", `request body too large: limit is ${limit} bytes`);
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

/** Parse a JSON object body; anything else is a 400 that says what was wrong. */
export async function readJSONObject(req: IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  const type = String(req.headers["content-type"] ?? "application/json")
    .split(";")[0]
    ?.trim();
  if (type !== "application/json")
    throw new HttpError(
      "UnsupportedMediaType",
      `unsupported media type ${JSON.stringify(type)}: use application/json`,
    );
  const body = await readBody(req, limit);
  let v: unknown;
  try {
    v = JSON.parse(body.toString("utf8"));
  } catch (e) {
    throw new HttpError("BadRequest", `invalid JSON in request body: ${(e as Error).message}`);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw new HttpError("BadRequest", "request body must be a JSON object");
  return v as Record<string, unknown>;
}
