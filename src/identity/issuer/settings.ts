import { ISSUER_DEFAULTS } from "./options.js";

/** The issuer's validated settings, as ServerConfig carries them. Durations in milliseconds. */
export interface TokenSettings {
  /** Absent: the server's own URL once it listens. */
  readonly issuerUrl?: string;
  readonly accessTokenTtlMs: number;
  readonly refreshIdleTtlMs: number;
  readonly sessionAbsoluteTtlMs: number;
  readonly keyRotationMs: number;
}

type Source = { value: unknown; from: string } | undefined;

const UNITS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "90s", "15m", "24h", "7d" (one unit), in milliseconds; undefined if malformed. */
export function parseDuration(v: unknown): number | undefined {
  const m = typeof v === "string" ? /^(\d{1,6})([smhd])$/.exec(v.trim()) : null;
  if (!m) return undefined;
  return Number(m[1]) * (UNITS[m[2] as string] as number);
}

/**
 * Validate the token settings (pure): every problem is pushed with the setting's name and source.
 * Lifetimes must nest: access ≤ idle ≤ absolute, and keys rotate no faster than access tokens live.
 */
export function resolveTokenSettings(
  get: (k: "issuerUrl" | "accessTokenTtl" | "refreshTokenIdleTtl" | "sessionMaxAge") => Source,
  problems: string[],
): TokenSettings {
  const where = (k: Parameters<typeof get>[0]): string => `${k} (from ${get(k)?.from ?? "default"})`;
  const duration = (k: Parameters<typeof get>[0], dflt: number, min: number, max: number): number => {
    const raw = get(k);
    if (raw === undefined) return dflt;
    const ms = parseDuration(raw.value);
    if (ms === undefined || ms < min || ms > max) {
      problems.push(
        `${where(k)}: expected a duration like 15m, 24h or 7d, from ${min / 1000}s to ${max / 86_400_000}d`,
      );
      return dflt;
    }
    return ms;
  };
  const accessTokenTtlMs = duration("accessTokenTtl", ISSUER_DEFAULTS.accessTokenTtlMs, 60_000, 86_400_000);
  const refreshIdleTtlMs = duration(
    "refreshTokenIdleTtl",
    ISSUER_DEFAULTS.refreshIdleTtlMs,
    60_000,
    90 * 86_400_000,
  );
  const sessionAbsoluteTtlMs = duration(
    "sessionMaxAge",
    ISSUER_DEFAULTS.sessionAbsoluteTtlMs,
    60_000,
    365 * 86_400_000,
  );
  if (refreshIdleTtlMs < accessTokenTtlMs)
    problems.push(`${where("refreshTokenIdleTtl")}: must not be shorter than accessTokenTtl`);
  if (sessionAbsoluteTtlMs < refreshIdleTtlMs)
    problems.push(`${where("sessionMaxAge")}: must not be shorter than refreshTokenIdleTtl`);
  const rawUrl = get("issuerUrl");
  let issuerUrl: string | undefined;
  if (rawUrl !== undefined) {
    let u: URL | undefined;
    try {
      u = typeof rawUrl.value === "string" ? new URL(rawUrl.value) : undefined;
    } catch {
      u = undefined;
    }
    if (!u || u.protocol !== "https:" || u.search !== "" || u.hash !== "" || u.username !== "")
      problems.push(`${where("issuerUrl")}: expected an https:// URL without query, fragment or user`);
    else issuerUrl = String(rawUrl.value).replace(/\/+$/, "");
  }
  return {
    ...(issuerUrl !== undefined ? { issuerUrl } : {}),
    accessTokenTtlMs,
    refreshIdleTtlMs,
    sessionAbsoluteTtlMs,
    keyRotationMs: Math.max(ISSUER_DEFAULTS.keyRotationMs, accessTokenTtlMs * 4),
  };
}
