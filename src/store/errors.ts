/** Store failures with a closed set of codes; the HTTP layer maps them to Status reasons. */
export type StoreErrorCode = "NotFound" | "AlreadyExists" | "Conflict" | "BadRequest" | "Unavailable";

export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "StoreError";
  }
}

/** Unique-constraint violations, as SQLite and PostgreSQL report them. */
export function isUniqueViolation(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown };
  return (
    err?.code === "23505" ||
    err?.code === "SQLITE_CONSTRAINT_PRIMARYKEY" ||
    err?.code === "SQLITE_CONSTRAINT_UNIQUE"
  );
}
