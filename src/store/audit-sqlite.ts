/**
 * The SQLite statements of the audit group commit, shared by the in-thread path
 * (audit-events.ts) and the worker thread (audit-worker.ts), so both write the same rows.
 */

/** Columns of one stored event, in the order of a Row (audit-events.ts). */
export const INSERT_COLUMNS = [
  "seq",
  "prev_hash",
  "hash",
  "source",
  "audit_id",
  "stage",
  "ts",
  "cluster",
  "username",
  "impersonated_user",
  "groups",
  "verb",
  "api_group",
  "resource",
  "namespace",
  "name",
  "code",
  "decision",
  "impact",
  "event",
  "bytes_end",
] as const;

/** Rows per SQLite multi-row INSERT (21 parameters each, far below SQLite's 32766). */
export const SQLITE_CHUNK = 50;

/** An INSERT of `n` rows, parameters in INSERT_COLUMNS order, row after row. */
export function insertSql(n: number): string {
  const row = `(${INSERT_COLUMNS.map(() => "?").join(", ")})`;
  return `insert into audit_events (${INSERT_COLUMNS.join(", ")}) values ${Array.from({ length: n }, () => row).join(", ")}`;
}

/** The last stored link; when there is none, the head is the retention anchor (ANCHOR_SQL). */
export const HEAD_SQL = "select seq, hash, bytes_end from audit_events order by seq desc limit 1";
export const ANCHOR_SQL = "select value from settings where key = ?";
export const ANCHOR_KEY = "audit.chain.anchor";

/** The head as read by HEAD_SQL, or undefined when the table is empty. */
export type HeadRow = { seq: number | bigint; hash: string; bytes_end: number | bigint | null } | undefined;
