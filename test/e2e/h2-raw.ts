import { connect, type TLSSocket } from "node:tls";
import { readFileSync } from "node:fs";

/**
 * A deliberately minimal HTTP/2 client that writes frames exactly as told, for attacks a proper
 * client refuses to send (uppercase header names, connection headers, CONTINUATION floods, rapid
 * reset). Header blocks are HPACK literals without indexing or Huffman coding (RFC 7541 §6.2.2),
 * which every decoder must accept; answers are read as frames only (never decoded).
 */
export const FRAME = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, CONTINUATION: 9 };
export const FLAG = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4 };
export const H2_ERROR = {
  NO_ERROR: 0,
  PROTOCOL_ERROR: 1,
  INTERNAL_ERROR: 2,
  CANCEL: 8,
  ENHANCE_YOUR_CALM: 0xb,
};

export interface Frame {
  type: number;
  flags: number;
  stream: number;
  payload: Buffer;
}

function hpackInt(n: number, prefixBits: number, first = 0): Buffer {
  const max = (1 << prefixBits) - 1;
  if (n < max) return Buffer.from([first | n]);
  const out = [first | max];
  n -= max;
  while (n >= 128) {
    out.push((n % 128) + 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

/** One header field as a literal without indexing, new name (the name is sent exactly as given). */
export function literal(name: string, value: string): Buffer {
  const n = Buffer.from(name, "latin1");
  const v = Buffer.from(value, "latin1");
  return Buffer.concat([Buffer.from([0]), hpackInt(n.length, 7), n, hpackInt(v.length, 7), v]);
}

export function headerBlock(fields: [string, string][]): Buffer {
  return Buffer.concat(fields.map(([k, v]) => literal(k, v)));
}

export function frame(
  type: number,
  flags: number,
  stream: number,
  payload: Buffer = Buffer.alloc(0),
): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h.writeUInt8(type, 3);
  h.writeUInt8(flags, 4);
  h.writeUInt32BE(stream & 0x7fffffff, 5);
  return Buffer.concat([h, payload]);
}

export function rstStream(stream: number, code: number): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt32BE(code);
  return frame(FRAME.RST_STREAM, 0, stream, p);
}

export interface RawH2 {
  socket: TLSSocket;
  frames: Frame[];
  /** Resolves when the server has closed the connection. */
  closed: Promise<void>;
  send(b: Buffer): boolean;
  /** Wait until a frame matching `pred` has arrived (or the connection closed, or `ms` passed). */
  waitFor(pred: (f: Frame) => boolean, ms?: number): Promise<Frame | undefined>;
  /** The server's SETTINGS (id → value) from its first SETTINGS frame. */
  settings(): Map<number, number>;
  close(): void;
}

export const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

/** Open a TLS connection negotiating h2, send the preface and an empty SETTINGS frame. */
export function rawH2(url: string, caFile: string): Promise<RawH2> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: u.hostname,
      port: Number(u.port),
      ca: readFileSync(caFile),
      servername: "localhost",
      ALPNProtocols: ["h2"],
    });
    const frames: Frame[] = [];
    let buf = Buffer.alloc(0);
    let waiters: (() => void)[] = [];
    const wake = (): void => {
      const w = waiters;
      waiters = [];
      for (const f of w) f();
    };
    let isClosed = false;
    const closed = new Promise<void>((res) =>
      socket.once("close", () => {
        isClosed = true;
        wake();
        res();
      }),
    );
    socket.on("error", () => undefined);
    socket.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 9) {
        const len = buf.readUIntBE(0, 3);
        if (buf.length < 9 + len) break;
        const f: Frame = {
          type: buf.readUInt8(3),
          flags: buf.readUInt8(4),
          stream: buf.readUInt32BE(5) & 0x7fffffff,
          payload: buf.subarray(9, 9 + len),
        };
        buf = buf.subarray(9 + len);
        frames.push(f);
        // Acknowledge the server's SETTINGS, as a client must.
        if (f.type === FRAME.SETTINGS && (f.flags & FLAG.ACK) === 0 && socket.writable)
          socket.write(frame(FRAME.SETTINGS, FLAG.ACK, 0));
      }
      wake();
    });
    socket.once("secureConnect", () => {
      if (socket.alpnProtocol !== "h2") {
        reject(new Error(`server did not negotiate h2 (got ${String(socket.alpnProtocol)})`));
        return;
      }
      socket.write(Buffer.concat([PREFACE, frame(FRAME.SETTINGS, 0, 0)]));
      resolve({
        socket,
        frames,
        closed,
        send: (b) => (socket.writable ? socket.write(b) : false),
        async waitFor(pred, ms = 10_000) {
          const deadline = Date.now() + ms;
          for (;;) {
            const f = frames.find(pred);
            if (f || isClosed || Date.now() > deadline) return f;
            await new Promise<void>((res) => {
              waiters.push(res);
              setTimeout(res, 100);
            });
          }
        },
        settings() {
          const s = frames.find((f) => f.type === FRAME.SETTINGS && (f.flags & FLAG.ACK) === 0);
          const m = new Map<number, number>();
          if (!s) return m;
          for (let i = 0; i + 6 <= s.payload.length; i += 6)
            m.set(s.payload.readUInt16BE(i), s.payload.readUInt32BE(i + 2));
          return m;
        },
        close: () => socket.destroy(),
      });
    });
    socket.once("error", reject);
  });
}

/** A valid request header block for `path` on `authority`, with extra fields appended as given. */
export function requestBlock(authority: string, path: string, extra: [string, string][] = []): Buffer {
  return headerBlock([
    [":method", "GET"],
    [":scheme", "https"],
    [":authority", authority],
    [":path", path],
    ...extra,
  ]);
}
