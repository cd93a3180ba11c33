import type { IncomingMessage, ServerResponse } from "node:http";

/**
 * Bounded copies of a request's and a response's bodies, taken as they stream past without changing
 * how they flow (the request is tapped at `emit("data")`, so piping and flowing mode are untouched).
 * Past `max` bytes a copy is abandoned: audit never holds more than that per request and body.
 */
export class BodyTap {
  private chunks: Buffer[] = [];
  private size = 0;
  private overflow = false;

  constructor(private readonly max: number) {}

  add(chunk: unknown): void {
    if (this.overflow) return;
    const b =
      typeof chunk === "string"
        ? Buffer.from(chunk)
        : chunk instanceof Uint8Array
          ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
          : undefined;
    if (!b) return;
    this.size += b.length;
    if (this.size > this.max) {
      this.overflow = true;
      this.chunks = [];
      return;
    }
    this.chunks.push(Buffer.from(b));
  }

  /** Stop copying (the body will not be recorded): what was copied is dropped. */
  abandon(): void {
    this.overflow = true;
    this.chunks = [];
  }

  /** The body as bytes, or undefined when it was empty or too large. */
  bytes(): Buffer | undefined {
    return this.overflow || this.size === 0 ? undefined : Buffer.concat(this.chunks);
  }

  /** The body as JSON, or undefined when it was empty, too large or not JSON. */
  json(): unknown {
    if (this.overflow || this.size === 0) return undefined;
    try {
      return JSON.parse(Buffer.concat(this.chunks).toString("utf8")) as unknown;
    } catch {
      return undefined;
    }
  }
}

/** Copy the request body as it is read. */
export function tapRequest(req: IncomingMessage, max: number): BodyTap {
  const tap = new BodyTap(max);
  const emit = req.emit;
  req.emit = function (this: IncomingMessage, event: string | symbol, ...args: unknown[]): boolean {
    if (event === "data") tap.add(args[0]);
    return emit.call(this, event, ...args) as boolean;
  } as typeof req.emit;
  return tap;
}

/**
 * Copy the response body as it is written (plain, uncompressed JSON only, and only when `wanted`
 * says the event will record it for this status), and call `onHeaders` once when the status line
 * and headers go out.
 */
export function tapResponse(
  res: ServerResponse,
  max: number,
  onHeaders: () => void,
  wanted: (status: number) => boolean = () => true,
): BodyTap {
  const tap = new BodyTap(max);
  let started = false;
  const headers = (given?: unknown): void => {
    if (started) return;
    started = true;
    const header = (name: string): string => {
      if (typeof given === "object" && given !== null && !Array.isArray(given)) {
        for (const [k, v] of Object.entries(given)) if (k.toLowerCase() === name) return String(v);
      }
      const v = res.getHeader(name);
      return v === undefined ? "" : String(v);
    };
    const encoding = header("content-encoding");
    if (
      (encoding !== "" && encoding !== "identity") ||
      !header("content-type").includes("json") ||
      !wanted(res.statusCode)
    )
      tap.abandon();
    onHeaders();
  };
  const writeHead = res.writeHead;
  res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    const r = (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
    headers(args.find((a) => typeof a === "object"));
    return r;
  } as typeof res.writeHead;
  // HTTP/2's compatibility response implements end(chunk) as write(chunk) + end(): while end runs,
  // the chunk it was given is already copied, so the nested write must not copy it again.
  let ending = false;
  const write = res.write;
  res.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]): boolean {
    if (!ending) {
      headers();
      tap.add(chunk);
    }
    return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof res.write;
  const end = res.end;
  res.end = function (this: ServerResponse, ...args: unknown[]): ServerResponse {
    const first = args[0];
    if (typeof first !== "function" && first !== undefined && first !== null) {
      headers();
      tap.add(first);
    }
    ending = true;
    try {
      return (end as (...a: unknown[]) => ServerResponse).apply(this, args);
    } finally {
      ending = false;
    }
  } as typeof res.end;
  return tap;
}

/**
 * Watch a raw upgrade socket for the gateway's "101 Switching Protocols" status line (upgrades are
 * answered on the socket, not through the response object); `onSwitch` is called once if it goes out.
 */
export function tapUpgrade(socket: { write: (...a: never[]) => boolean }, onSwitch: () => void): void {
  const write = socket.write as (...a: unknown[]) => boolean;
  let seen = false;
  socket.write = function (this: unknown, ...args: unknown[]): boolean {
    const first = args[0];
    if (!seen) {
      seen = true;
      const head =
        typeof first === "string"
          ? first
          : Buffer.isBuffer(first)
            ? first.subarray(0, 16).toString("latin1")
            : "";
      if (head.startsWith("HTTP/1.1 101")) onSwitch();
    }
    return write.apply(this, args);
  } as typeof socket.write;
}
