/**
 * A --since value: a duration back from now ("90s", "15m", "24h", "7d", "1h30m", Go style plus
 * days) or an RFC 3339 time. Returns epoch milliseconds; throws SinceError when it is neither.
 */
export class SinceError extends Error {
  readonly code = "InvalidSince" as const;
  constructor(value: string) {
    super(
      `invalid --since ${JSON.stringify(value)}: expected a duration such as 30m, 24h or 7d, or an RFC 3339 time`,
    );
    this.name = "SinceError";
  }
}

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/i;

export function parseSince(value: string, nowMs: number): number {
  const v = value.trim();
  if (DURATION.test(v)) {
    let total = 0;
    for (const m of v.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g))
      total += Number(m[1]) * (UNIT_MS[m[2] ?? ""] ?? 0);
    return nowMs - total;
  }
  if (RFC3339.test(v)) {
    const t = Date.parse(v);
    if (Number.isFinite(t)) return t;
  }
  throw new SinceError(value);
}
