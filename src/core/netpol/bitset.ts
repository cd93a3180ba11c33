/** Fixed-size bit sets over pod indices (Uint32Array words): the matrix's unit of work. */

export type Bits = Uint32Array;

export function emptyBits(n: number): Bits {
  return new Uint32Array((n + 31) >>> 5);
}

/** An empty set the size of `b`. */
export function emptyLike(b: Bits): Bits {
  return new Uint32Array(b.length);
}

export function fullBits(n: number): Bits {
  const b = emptyBits(n);
  b.fill(0xffffffff);
  const extra = b.length * 32 - n;
  if (extra > 0 && b.length > 0) b[b.length - 1] = 0xffffffff >>> extra;
  return b;
}

export function setBit(b: Bits, i: number): void {
  b[i >>> 5] = ((b[i >>> 5] ?? 0) | (1 << (i & 31))) >>> 0;
}

export function hasBit(b: Bits, i: number): boolean {
  return (((b[i >>> 5] ?? 0) >>> (i & 31)) & 1) === 1;
}

/** a |= b */
export function orInto(a: Bits, b: Bits): void {
  for (let i = 0; i < a.length; i++) a[i] = ((a[i] ?? 0) | (b[i] ?? 0)) >>> 0;
}

/** a &= ~b */
export function andNotInto(a: Bits, b: Bits): void {
  for (let i = 0; i < a.length; i++) a[i] = ((a[i] ?? 0) & ~(b[i] ?? 0)) >>> 0;
}

/** a & b, new set */
export function and(a: Bits, b: Bits): Bits {
  const out = new Uint32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = ((a[i] ?? 0) & (b[i] ?? 0)) >>> 0;
  return out;
}

export function isEmpty(b: Bits): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

export function countBits(b: Bits): number {
  let n = 0;
  for (let i = 0; i < b.length; i++) {
    let v = b[i] ?? 0;
    v = v - ((v >>> 1) & 0x55555555);
    v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
    n += (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
  }
  return n;
}
