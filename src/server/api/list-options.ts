import { HttpError } from "../errors.js";

export interface ListOptions {
  limit: number;
  continue?: string;
}

const MAX_LIMIT = 500;

/** ?limit=N&continue=TOKEN as Kubernetes list calls take them; no limit means the server's maximum page. */
export function parseListOptions(url: URL): ListOptions {
  const l = url.searchParams.get("limit");
  let limit = MAX_LIMIT;
  if (l !== null && l !== "") {
    const n = Number(l);
    if (!Number.isInteger(n) || n < 0)
      throw new HttpError("BadRequest", `limit must be a non-negative integer, got ${JSON.stringify(l)}`);
    if (n > 0) limit = Math.min(n, MAX_LIMIT);
  }
  const c = url.searchParams.get("continue");
  return c ? { limit, continue: c } : { limit };
}
