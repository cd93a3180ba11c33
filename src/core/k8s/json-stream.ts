/**
 * Splits a stream of concatenated JSON objects (a kube-apiserver JSON watch: one object per event,
 * newline-separated) into whole objects, whatever the chunking. Works on bytes: the structural
 * characters are ASCII and never appear inside a UTF-8 multi-byte sequence.
 */
export class JsonObjectSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;

  /** @param maxObjectBytes an object larger than this is an error (a watch event is at most a few MiB). */
  constructor(private readonly maxObjectBytes = 16 * 1024 * 1024) {}

  /** Feed a chunk; returns the objects it completed, as text. Throws on malformed framing. */
  push(chunk: Buffer): string[] {
    const out: string[] = [];
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i] as number;
      if (this.depth === 0) {
        if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
          start = i + 1;
          continue;
        }
        if (c !== 0x7b) throw new Error(`expected a JSON object, found byte 0x${c.toString(16)}`);
        start = i;
        this.depth = 1;
        continue;
      }
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === 0x5c) this.escaped = true;
        else if (c === 0x22) this.inString = false;
        continue;
      }
      if (c === 0x22) this.inString = true;
      else if (c === 0x7b || c === 0x5b) this.depth++;
      else if (c === 0x7d || c === 0x5d) {
        this.depth--;
        if (this.depth === 0) {
          this.pending.push(chunk.subarray(start, i + 1));
          out.push(Buffer.concat(this.pending).toString("utf8"));
          this.pending = [];
          this.pendingBytes = 0;
          start = i + 1;
        }
      }
    }
    if (this.depth > 0) {
      const rest = chunk.subarray(start);
      this.pendingBytes += rest.length;
      if (this.pendingBytes > this.maxObjectBytes)
        throw new Error(`a JSON object exceeds ${this.maxObjectBytes} bytes`);
      this.pending.push(rest);
    }
    return out;
  }

  /** True when no object is half read. */
  get idle(): boolean {
    return this.depth === 0;
  }
}
