/**
 * IPv4 and IPv6 addresses and CIDR blocks, parsed as Go's net.ParseCIDR (sloppy form, as
 * Kubernetes accepts for legacy fields): host bits after the prefix are allowed and masked off.
 * IPv4 values are plain numbers (fast to compare for 10,000 pods); IPv6 values are bigints.
 */

export type IpAddress =
  | { readonly family: 4; readonly value: number; readonly text: string }
  | { readonly family: 6; readonly value: bigint; readonly text: string };

export type CidrBlock =
  | { readonly family: 4; readonly base: number; readonly prefix: number; readonly text: string }
  | { readonly family: 6; readonly base: bigint; readonly prefix: number; readonly text: string };

/** Parse an IPv4 or IPv6 address; undefined when it is neither. */
export function parseIp(text: string): IpAddress | undefined {
  const t = text.trim();
  if (t.includes(":")) {
    const v = parseIpv6(t);
    return v === undefined ? undefined : { family: 6, value: v, text: t };
  }
  const v = parseIpv4(t);
  return v === undefined ? undefined : { family: 4, value: v, text: t };
}

/** Parse "address/prefix"; undefined when malformed or the prefix is out of range. */
export function parseCidr(text: string): CidrBlock | undefined {
  const t = text.trim();
  const slash = t.indexOf("/");
  if (slash < 0) return undefined;
  const ip = parseIp(t.slice(0, slash));
  const prefixText = t.slice(slash + 1);
  if (ip === undefined || !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (ip.family === 4) {
    if (prefix > 32) return undefined;
    return { family: 4, base: maskV4(ip.value, prefix), prefix, text: t };
  }
  if (prefix > 128) return undefined;
  return { family: 6, base: maskV6(ip.value, prefix), prefix, text: t };
}

/** Whether the address lies inside the block (never across address families). */
export function cidrContains(block: CidrBlock, ip: IpAddress): boolean {
  if (block.family === 4 && ip.family === 4) return maskV4(ip.value, block.prefix) === block.base;
  if (block.family === 6 && ip.family === 6) return maskV6(ip.value, block.prefix) === block.base;
  return false;
}

/** Whether `inner` is a strict subset of `outer`, as NetworkPolicy validation requires of except. */
export function isStrictSubset(inner: CidrBlock, outer: CidrBlock): boolean {
  if (inner.family !== outer.family || inner.prefix <= outer.prefix) return false;
  return inner.family === 4 && outer.family === 4
    ? maskV4(inner.base, outer.prefix) === outer.base
    : inner.family === 6 && outer.family === 6 && maskV6(inner.base, outer.prefix) === outer.base;
}

/** The first address of a block, as an address (used for representative external endpoints). */
export function firstAddress(block: CidrBlock): IpAddress {
  return block.family === 4
    ? { family: 4, value: block.base, text: formatIpv4(block.base) }
    : { family: 6, value: block.base, text: formatIpv6(block.base) };
}

function maskV4(v: number, prefix: number): number {
  if (prefix === 0) return 0;
  const shift = 32 - prefix;
  return ((v >>> shift) << shift) >>> 0;
}

const ALL128 = (1n << 128n) - 1n;

function maskV6(v: bigint, prefix: number): bigint {
  if (prefix === 0) return 0n;
  const shift = BigInt(128 - prefix);
  return ((v >> shift) << shift) & ALL128;
}

function parseIpv4(t: string): number | undefined {
  const parts = t.split(".");
  if (parts.length !== 4) return undefined;
  let v = 0;
  for (const p of parts) {
    // Go's sloppy parser accepts leading zeros and reads them as decimal.
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    v = v * 256 + n;
  }
  return v;
}

function parseIpv6(t: string): bigint | undefined {
  if (t.includes("%")) return undefined; // zones are not addresses a policy can name
  let head = t;
  let tail4: number | undefined;
  const lastColon = t.lastIndexOf(":");
  if (t.slice(lastColon + 1).includes(".")) {
    tail4 = parseIpv4(t.slice(lastColon + 1));
    if (tail4 === undefined) return undefined;
    head = t.slice(0, lastColon + 1) + "0:0"; // two placeholder groups, replaced below
  }
  const halves = head.split("::");
  if (halves.length > 2) return undefined;
  const groups = (s: string): string[] | undefined => (s === "" ? [] : s.split(":"));
  const left = groups(halves[0] ?? "");
  const right = halves.length === 2 ? groups(halves[1] ?? "") : [];
  if (left === undefined || right === undefined) return undefined;
  const count = left.length + right.length;
  if (halves.length === 1 ? count !== 8 : count > 7) return undefined;
  const all = [...left, ...Array<string>(8 - count).fill("0"), ...right];
  let v = 0n;
  for (const g of all) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    v = (v << 16n) | BigInt(parseInt(g, 16));
  }
  if (tail4 !== undefined) v = (v & ~0xffffffffn) | BigInt(tail4);
  return v;
}

export function formatIpv4(v: number): string {
  return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join(".");
}

export function formatIpv6(v: bigint): string {
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--) groups.push(((v >> BigInt(i * 16)) & 0xffffn).toString(16));
  // Compress the longest run of zero groups (length >= 2), as RFC 5952 prints it.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== "0") {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === "0") j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return groups.join(":");
  const l = groups.slice(0, bestStart).join(":");
  const r = groups.slice(bestStart + bestLen).join(":");
  return `${l}::${r}`;
}
