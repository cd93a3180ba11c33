/**
 * Kubernetes resource quantities ("500m", "2", "1Gi", "1e3") as exact integers of milli-units, for
 * quota arithmetic. Fractions below a milli-unit round up, as kube-apiserver's quota does.
 */
const BINARY: Record<string, bigint> = {
  Ki: 1n << 10n,
  Mi: 1n << 20n,
  Gi: 1n << 30n,
  Ti: 1n << 40n,
  Pi: 1n << 50n,
  Ei: 1n << 60n,
};
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, "": 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

const FORM = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$/;

/** Milli-units of a quantity; undefined when it is not a Kubernetes quantity. */
export function parseQuantity(s: string): bigint | undefined {
  const m = FORM.exec(s.trim());
  if (!m) return undefined;
  const sign = m[1] === "-" ? -1n : 1n;
  const [whole = "", frac = ""] = (m[2] as string).split(".");
  const suffix = m[3] ?? "";
  // Value = digits * 10^(exp10) * mult, with digits an integer.
  const digits = BigInt((whole || "0") + frac);
  let exp10 = -frac.length + 3; // in milli-units
  let mult = 1n;
  if (suffix in BINARY) mult = BINARY[suffix] as bigint;
  else if (suffix in DECIMAL) exp10 += DECIMAL[suffix] as number;
  else exp10 += Number(suffix.slice(1));
  let v = digits * mult;
  if (exp10 >= 0) v *= 10n ** BigInt(exp10);
  else {
    const d = 10n ** BigInt(-exp10);
    v = (v + d - 1n) / d;
  }
  return sign * v;
}

/** A canonical string for milli-units: "1500m", "2", or "1Gi"-style when exact. */
export function formatQuantity(milli: bigint): string {
  if (milli % 1000n !== 0n) return `${milli}m`;
  const units = milli / 1000n;
  for (const suffix of ["Ei", "Pi", "Ti", "Gi", "Mi", "Ki"]) {
    const b = BINARY[suffix] as bigint;
    if (units !== 0n && units % b === 0n && units >= b) return `${units / b}${suffix}`;
  }
  return String(units);
}

/** Whether two quantity strings mean the same amount ("1000m" and "1"). Non-quantities compare as text. */
export function sameQuantity(a: string, b: string): boolean {
  const x = parseQuantity(a);
  const y = parseQuantity(b);
  return x !== undefined && y !== undefined ? x === y : a === b;
}

/** Sum of hard maps, per resource name. */
export function addHard(maps: readonly Readonly<Record<string, string>>[]): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const m of maps)
    for (const [k, v] of Object.entries(m)) out.set(k, (out.get(k) ?? 0n) + (parseQuantity(v) ?? 0n));
  return out;
}

/** The resources where `used` exceeds `limit`, as "name: used X > limit Y". Only limited names count. */
export function exceeded(
  used: ReadonlyMap<string, bigint>,
  limit: Readonly<Record<string, string>>,
): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(limit)) {
    const max = parseQuantity(v) ?? 0n;
    const u = used.get(k) ?? 0n;
    if (u > max) out.push(`${k}: requested ${formatQuantity(u)}, limited: ${formatQuantity(max)}`);
  }
  return out;
}
