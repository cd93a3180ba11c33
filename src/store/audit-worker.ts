/**
 * The SQLite audit writer thread (started by audit-worker-client.ts). It owns a second connection to
 * the store's file and runs each batch as one transaction: BEGIN IMMEDIATE (the write lock, waiting
 * up to busy_timeout), check that the chain head in the file is the one the main thread hashed from,
 * insert, COMMIT, and only then reply. A head that moved (another connection appended) rolls back
 * and replies with the real head, so the main thread re-hashes; nothing is inserted off the chain.
 */
import { parentPort, workerData } from "node:worker_threads";
import BetterSqlite3 from "better-sqlite3";
import { GENESIS } from "../core/audit/chain.js";
import { ANCHOR_KEY, ANCHOR_SQL, HEAD_SQL, insertSql, SQLITE_CHUNK, type HeadRow } from "./audit-sqlite.js";
import type { Head, WorkerReply, WorkerRequest } from "./audit-worker-protocol.js";

const port = parentPort;
if (!port) throw new Error("audit-worker.ts runs only as a worker thread");
const { path, columns } = workerData as { path: string; columns: number };

const db = new BetterSqlite3(path);
db.pragma("journal_mode = WAL");
db.pragma("synchronous = NORMAL");
db.pragma("busy_timeout = 5000");
const begin = db.prepare("begin immediate");
const commit = db.prepare("commit");
const rollback = db.prepare("rollback");
const head = db.prepare(HEAD_SQL);
const anchor = db.prepare(ANCHOR_SQL);
const many = db.prepare(insertSql(SQLITE_CHUNK));
const one = db.prepare(insertSql(1));

/** The chain head in the file: the last link, else the retention anchor, else GENESIS. */
function readHead(): Head {
  const last = head.get() as HeadRow;
  if (last) return { seq: Number(last.seq), hash: last.hash, bytes: Number(last.bytes_end ?? 0) };
  const a = anchor.get(ANCHOR_KEY) as { value: string } | undefined;
  if (!a) return { ...GENESIS, bytes: 0 };
  const v = JSON.parse(a.value) as { seq: number; hash: string; bytes?: number };
  return { seq: v.seq, hash: v.hash, bytes: v.bytes ?? 0 };
}

function append(req: Extract<WorkerRequest, { kind: "append" }>): WorkerReply {
  begin.run();
  try {
    const at = readHead();
    // The byte total too: a migration or repair may have rewritten it under the same link.
    const e = req.expect;
    if (!e || at.seq !== e.seq || at.hash !== e.hash || at.bytes !== e.bytes) {
      rollback.run();
      return { id: req.id, kind: "moved", head: at };
    }
    const v = req.values;
    const n = v.length / columns;
    let i = 0;
    for (; i + SQLITE_CHUNK <= n; i += SQLITE_CHUNK)
      many.run(v.slice(i * columns, (i + SQLITE_CHUNK) * columns));
    for (; i < n; i++) one.run(v.slice(i * columns, (i + 1) * columns));
    commit.run();
    return { id: req.id, kind: "committed" };
  } catch (e) {
    if (db.inTransaction) rollback.run();
    throw e;
  }
}

port.on("message", (req: WorkerRequest) => {
  if (req.kind === "close") {
    db.close();
    port.close();
    return;
  }
  let reply: WorkerReply;
  try {
    reply = append(req);
  } catch (e) {
    const err = e as { message?: string; code?: string };
    reply = { id: req.id, kind: "failed", message: String(err.message ?? e), code: String(err.code ?? "") };
  }
  port.postMessage(reply);
});
