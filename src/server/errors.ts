import { failure, type Status, type StatusReason } from "../core/k8s/index.js";
import { StoreError } from "../store/index.js";

/** An error that carries the Status to answer with; its message is safe for the caller. */
export class HttpError extends Error {
  constructor(
    readonly reason: StatusReason,
    message: string,
    private readonly status?: Status,
  ) {
    super(message);
    this.name = "HttpError";
  }
  /** An error that answers with a ready-made Status (e.g. kube-apiserver's exact 403). */
  static of(status: Status): HttpError {
    return new HttpError(status.reason === "" ? "InternalError" : status.reason, status.message, status);
  }
  toStatus(): Status {
    return this.status ?? failure(this.reason, this.message);
  }
}

/**
 * The one place errors become responses. Known errors keep their message; anything else is a 500
 * whose body says nothing internal (the cause goes to the log).
 */
export function toStatus(e: unknown): { status: Status; internal: boolean; busy?: true } {
  if (e instanceof HttpError) return { status: e.toStatus(), internal: false };
  // SQLite waited busy_timeout for another writer (another process holding the file's write lock)
  // and gave up: nothing was changed, and trying again soon is the answer. As kube-apiserver does for
  // a storage timeout, the Status carries retryAfterSeconds and the response a Retry-After header,
  // on which client-go (kubectl) retries by itself.
  if (isSqliteBusy(e))
    return {
      status: failure("ServiceUnavailable", "the Gatehouse store is busy; nothing was changed, try again", {
        retryAfterSeconds: 1,
      }),
      internal: false,
      busy: true,
    };
  if (e instanceof StoreError) {
    switch (e.code) {
      case "NotFound":
        return { status: failure("NotFound", e.message), internal: false };
      case "AlreadyExists":
        return { status: failure("AlreadyExists", e.message), internal: false };
      case "Conflict":
        return { status: failure("Conflict", e.message), internal: false };
      case "BadRequest":
        return { status: failure("BadRequest", e.message), internal: false };
      case "Unavailable":
        return {
          status: failure("ServiceUnavailable", "the Gatehouse store is unavailable"),
          internal: true,
        };
    }
  }
  return {
    status: failure("InternalError", "Internal error occurred: see the Gatehouse server log"),
    internal: true,
  };
}

/** better-sqlite3's SqliteError for a lock it could not get within busy_timeout. */
function isSqliteBusy(e: unknown): boolean {
  if (!(e instanceof Error) || e.name !== "SqliteError") return false;
  const code = (e as Error & { code?: unknown }).code;
  return typeof code === "string" && (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED"));
}
