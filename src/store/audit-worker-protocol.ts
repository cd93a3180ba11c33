/** Messages between the audit writer thread (audit-worker.ts) and the main thread. */

/** A chain head with the running total of stored event bytes through it (`bytes_end`). */
export interface Head {
  seq: number;
  hash: string;
  bytes: number;
}

export type WorkerRequest =
  | {
      kind: "append";
      id: number;
      /** The head the rows were hashed from; undefined asks for the head without inserting. */
      expect: Head | undefined;
      /** The rows' column values, row after row (INSERT_COLUMNS order). */
      values: unknown[];
    }
  | { kind: "close" };

export type WorkerReply =
  | { id: number; kind: "committed" }
  /** The head is not the expected one: nothing was inserted; this is the real head. */
  | { id: number; kind: "moved"; head: Head }
  | { id: number; kind: "failed"; message: string; code: string };
