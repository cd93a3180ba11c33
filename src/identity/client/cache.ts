import { createHash, randomBytes } from "node:crypto";
import {
  closeSync,
  chmodSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/** What `gatehouse login` keeps per user and server. Only the CLI reads it; kubectl never does. */
export interface CachedLogin {
  server: string;
  user: string;
  caPem?: string;
  insecureSkipTlsVerify?: boolean;
  accessToken: string;
  /** RFC 3339. */
  accessTokenExpiresAt: string;
  refreshToken: string;
  sessionId: string;
}

export class CacheError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CacheError";
  }
}

/** $GATEHOUSE_CACHE_DIR, else ~/.gatehouse/cache. */
export function cacheDir(env: NodeJS.ProcessEnv): string {
  return env["GATEHOUSE_CACHE_DIR"] || join(homedir(), ".gatehouse", "cache");
}

const fileName = (server: string, user: string): string =>
  `${createHash("sha256")
    .update(`${normaliseServer(server)}\n${user}`)
    .digest("hex")
    .slice(0, 32)}.json`;

/** Origin of a server URL, without a trailing slash, so `https://h/` and `https://h` share a cache entry. */
export function normaliseServer(server: string): string {
  return new URL(server).origin;
}

/**
 * A directory only its owner can use. On a machine shared by several users, a cache directory that
 * someone else owns or can read is refused rather than used: tokens are as good as passwords.
 */
function ensureDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if (!st.isDirectory()) throw new CacheError(`token cache ${dir} is not a directory`);
  if (typeof process.getuid === "function" && st.uid !== process.getuid())
    throw new CacheError(`token cache ${dir} belongs to another user: refusing to use it`);
  if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
}

export function readCache(dir: string, server: string, user: string): CachedLogin | undefined {
  const path = join(dir, fileName(server, user));
  let text: string;
  try {
    const st = statSync(path);
    if (typeof process.getuid === "function" && st.uid !== process.getuid())
      throw new CacheError(`token cache file ${path} belongs to another user: refusing to use it`);
    text = readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  try {
    return JSON.parse(text) as CachedLogin;
  } catch {
    return undefined;
  }
}

/** Write atomically (temp file, then rename) with mode 0600 from the start. */
export function writeCache(dir: string, entry: CachedLogin): void {
  ensureDir(dir);
  const path = join(dir, fileName(entry.server, entry.user));
  const tmp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  const fd = openSync(tmp, "wx", 0o600);
  try {
    writeSync(fd, JSON.stringify(entry));
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** Every readable login in the cache directory (for commands that pick the one login there is). */
export function listCache(dir: string): CachedLogin[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
  const out: CachedLogin[] = [];
  for (const n of names.filter((n) => /^[0-9a-f]{32}\.json$/.test(n)).sort()) {
    const path = join(dir, n);
    const st = statSync(path);
    if (typeof process.getuid === "function" && st.uid !== process.getuid()) continue;
    try {
      const c = JSON.parse(readFileSync(path, "utf8")) as CachedLogin;
      if (typeof c.server === "string" && typeof c.user === "string") out.push(c);
    } catch {
      // a torn or foreign file: not a login
    }
  }
  return out;
}

export function deleteCache(dir: string, server: string, user: string): boolean {
  const path = join(dir, fileName(server, user));
  try {
    rmSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Run `f` holding a per-entry lock file, so concurrent `gatehouse token` runs (kubectl may start
 * several) do not both exchange the same refresh token: the second would look like reuse and end
 * the session. A lock older than 60 s is taken over (its holder died).
 */
export async function withCacheLock<T>(
  dir: string,
  server: string,
  user: string,
  f: () => Promise<T>,
): Promise<T> {
  ensureDir(dir);
  const lock = join(dir, `${fileName(server, user)}.lock`);
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      closeSync(openSync(lock, "wx", 0o600));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      try {
        if (statSync(lock).mtimeMs < Date.now() - 60_000) rmSync(lock, { force: true });
      } catch {
        // gone in the meantime
      }
      if (Date.now() > deadline)
        throw new CacheError(`token cache is locked (${lock}); remove it if no gatehouse is running`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  try {
    return await f();
  } finally {
    rmSync(lock, { force: true });
  }
}
