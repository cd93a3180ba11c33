import {
  CompiledQuery,
  sql,
  type ExpressionBuilder,
  type Expression,
  type Kysely,
  type SqlBool,
} from "kysely";
import {
  ANNOTATION,
  chainNext,
  GENESIS,
  type ChainHead,
  type ChainLink,
  type Event,
} from "../core/audit/index.js";
import type { Database } from "./schema.js";
import { sqliteHandles, type SqliteHandle } from "./dialect.js";
import { ANCHOR_KEY, ANCHOR_SQL, HEAD_SQL, INSERT_COLUMNS, insertSql, SQLITE_CHUNK } from "./audit-sqlite.js";
import { AuditWorkerError, type AuditWorkerClient } from "./audit-worker-client.js";
import type { Head } from "./audit-worker-protocol.js";

type SqliteStatement = ReturnType<SqliteHandle["prepare"]>;
import { StoreError } from "./errors.js";

/** Where a stored event came from: the gateway, a cluster's own audit webhook, or Gatehouse itself. */
export type AuditSource = "gateway" | "cluster" | "gatehouse";

/** One event to append, with the cluster it concerns ("" for none). */
export interface AuditAppend {
  event: Event;
  source: AuditSource;
  cluster: string;
}

/** A stored link as the verifier reads it: the stored JSON text, not parsed. */
export interface StoredAuditLink extends ChainLink {
  id: number;
  source: AuditSource;
  cluster: string;
}

/** A stored event with its chain link and storage position. */
export interface StoredAuditEvent extends StoredAuditLink {
  event: Event;
}

/** A committed event: what the sinks after the store get, with the exact bytes stored and hashed. */
export interface CommittedAuditEvent {
  event: Event;
  json: string;
  seq: number;
}

/** Filters of `gatehouse audit query`; every field set must match. Times are epoch milliseconds. */
export interface AuditFilter {
  cluster?: string;
  /** The authenticated user or the impersonated one. */
  user?: string;
  group?: string;
  verb?: string;
  resource?: string;
  namespace?: string;
  name?: string;
  code?: number;
  decision?: string;
  impact?: string;
  auditID?: string;
  source?: AuditSource;
  stage?: string;
  since?: number;
  until?: number;
  /** Only RequestReceived events whose request has no ResponseComplete or Panic (cut off by a crash). */
  incomplete?: boolean;
}

type Eb = ExpressionBuilder<Database, "audit_events">;

/** The lock PostgreSQL writers take so that replicas append to one chain in turn. */
const PG_CHAIN_LOCK = 7_407_001;
/** Tries of one batch against a head that keeps moving (other connections appending) before giving up. */
const WORKER_TRIES = 5;

/**
 * Audit events, chained by hash (core/audit/chain.ts). `append` is the group commit: one
 * transaction per batch, reading the chain head inside it (under a lock on PostgreSQL) so that
 * several writers never fork the chain. Queries run on indexed columns copied out of each event.
 */
export class AuditEventRepository {
  /**
   * @param worker On SQLite, the writer thread that runs the group commit on its own connection
   *   (audit-worker.ts); without it the commit runs on this thread.
   */
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: "sqlite" | "postgres",
    readonly worker?: AuditWorkerClient,
  ) {}

  /** Whether SQLite batches go to the writer thread. */
  get threaded(): boolean {
    return this.worker !== undefined;
  }

  /**
   * Start the writer thread and learn the chain head, so that the first batch waits for neither
   * (starting the thread costs tens of milliseconds, more from the TypeScript sources).
   */
  async warm(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    const run = this.workerTail.then(async () => {
      const r = await worker.append(undefined, []);
      if (r.kind === "moved") this.known = r.head;
    });
    this.workerTail = run.catch(() => undefined);
    await run;
  }

  /** Stop the writer thread (after the batches it holds). */
  async close(): Promise<void> {
    await this.worker?.close();
  }

  /**
   * Append a batch in one transaction; returns the new head. Each event is serialised once; those
   * bytes are hashed into the chain and stored as they are (`json` of each committed event).
   */
  async append(items: readonly AuditAppend[]): Promise<ChainHead> {
    return (await this.appendCommitted(items)).head;
  }

  /**
   * append, also returning the committed events with their stored JSON, in chain order. `next`, when
   * given, are the events of the following batch: on PostgreSQL they are serialised while the server
   * inserts this one (client and server work overlap on the two cores), and taken from there by the
   * next call. On SQLite the insert runs on this thread, so there is nothing to overlap.
   */
  async appendCommitted(
    items: readonly AuditAppend[],
    next?: readonly AuditAppend[],
  ): Promise<{ head: ChainHead; committed: CommittedAuditEvent[] }> {
    if (items.length === 0) return { head: await this.head(), committed: [] };
    // Serialised and reduced to column values before the transaction: only hashing needs the head.
    const raw = this.dialect === "sqlite" ? sqliteHandles.get(this.db) : undefined;
    if (this.worker && raw && !raw.inTransaction) {
      const worker = this.worker;
      const run = this.workerTail.then(() => this.appendThreaded(worker, items, next));
      this.workerTail = run.then(
        () => undefined,
        () => undefined,
      );
      return run;
    }
    // Committed on this thread: what the writer thread's side knows or hashed ahead is stale.
    this.known = undefined;
    this.prepared = undefined;
    const rows = items.map((it) => this.takeRow(it));
    const chain = (from: Head): { head: ChainHead; committed: CommittedAuditEvent[] } => {
      const out = chainRows(items, rows, from, 0);
      return { head: { seq: out.head.seq, hash: out.head.hash }, committed: out.committed };
    };
    if (raw && !raw.inTransaction) {
      // SQLite, connection idle: the whole group commit runs synchronously on better-sqlite3 with
      // statements kept prepared (nothing else can run on the connection meanwhile). A Kysely
      // transaction open on it (awaiting) sends this batch the Kysely way below instead.
      return raw.transaction(() => {
        const out = chain(this.sqliteHead(raw));
        this.sqliteInsert(raw, rows);
        return out;
      })();
    }
    return this.db.transaction().execute(async (tx) => {
      if (this.dialect === "postgres") await sql`select pg_advisory_xact_lock(${PG_CHAIN_LOCK})`.execute(tx);
      const out = chain(await headIn(tx));
      if (this.dialect === "postgres") {
        // One statement per batch whatever its size: each column travels as one array parameter
        // and unnest() turns the arrays back into rows (no 65535-parameter limit, one parse).
        for (let i = 0; i < rows.length; i += PG_CHUNK) {
          const insert = tx.executeQuery(
            CompiledQuery.raw(PG_INSERT, columnsOf(rows.slice(i, i + PG_CHUNK))),
          );
          if (next && i + PG_CHUNK >= rows.length) {
            // Once the last INSERT is on the wire, serialise the next batch while the server works.
            await new Promise((r) => setImmediate(r));
            for (const it of next) if (!this.ahead.has(it)) this.ahead.set(it, toRow(it));
          }
          await insert;
        }
      } else if (raw) {
        // Inside the Kysely transaction, which holds the one connection.
        this.sqliteInsert(raw, rows);
      } else {
        for (let i = 0; i < rows.length; i += SQLITE_CHUNK) {
          const chunk = rows.slice(i, i + SQLITE_CHUNK);
          await tx.executeQuery(CompiledQuery.raw(this.insertText(chunk.length), chunk.flat()));
        }
      }
      return out;
    });
  }

  /** Batches to the writer thread go one after another (appendCommitted may be called concurrently). */
  private workerTail: Promise<void> = Promise.resolve();
  /** The head after the last batch the writer thread committed, as far as this process knows. */
  private known: Head | undefined;
  /** The next batch, serialised and hashed from `from` while the thread inserted the one before. */
  private prepared: { from: Head; rows: Row[]; values: unknown[] } | undefined;
  /**
   * A batch sent to the thread that died before answering: it may or may not be stored. `items` is
   * the batch as the writer gave it; each mark is a prefix of it that a dead thread may have
   * committed (a retry that found the first part stored sends only the rest), with the link its
   * last event would have. Kept until a later call has looked in the file.
   */
  private lost:
    | {
        items: readonly AuditAppend[];
        marks: { n: number; head: Head; committed: CommittedAuditEvent[] }[];
      }
    | undefined;

  /**
   * The group commit on the writer thread: serialise and hash here from the head this process last
   * committed (or the rows hashed ahead), send the rows, and while the thread inserts them serialise
   * and hash `next` from the head they will make. The thread checks the head inside its
   * transaction: if another connection appended meanwhile, nothing is inserted and the batch is
   * hashed again from the real head. Resolves only after the thread's COMMIT returned.
   */
  private async appendThreaded(
    worker: AuditWorkerClient,
    batch: readonly AuditAppend[],
    next: readonly AuditAppend[] | undefined,
  ): Promise<{ head: ChainHead; committed: CommittedAuditEvent[] }> {
    let items = batch;
    let rows = items.map((it) => this.takeRow(it));
    let done: CommittedAuditEvent[] = [];
    const { prepared } = this;
    this.prepared = undefined;
    let from = this.known;
    if (this.lost) {
      // A thread died before answering for a batch: the writer retries it first in its queue, so
      // this batch starts with it. Whatever part of it is in the file must not be stored again. The
      // link is looked up itself, not compared with the head: another connection may have appended
      // after it. The stored part stays marked until this call succeeds (it may fail too).
      const stored = this.storedMark(this.lost, batch);
      this.lost = { items: batch, marks: stored ? [stored] : [] };
      from = undefined;
      if (stored) {
        done = stored.committed;
        items = items.slice(stored.n);
        rows = rows.slice(stored.n);
        if (items.length === 0) {
          this.lost = undefined;
          return { head: { seq: stored.head.seq, hash: stored.head.hash }, committed: done };
        }
      }
    }
    for (let attempt = 0; attempt < WORKER_TRIES; attempt++) {
      if (!from) {
        const r = await worker.append(undefined, []);
        if (r.kind !== "moved") throw workerFailure(r);
        from = r.head;
      }
      // Rows hashed ahead from this very head keep their links; the rest are hashed now.
      let reuse = 0;
      if (prepared && sameHead(prepared.from, from) && prepared.from.bytes === from.bytes)
        while (reuse < rows.length && rows[reuse] === prepared.rows[reuse]) reuse++;
      const out = chainRows(items, rows, from, reuse);
      // The column values hashed ahead too, when the whole batch is the one prepared.
      const values =
        prepared && reuse === rows.length && rows.length === prepared.rows.length
          ? prepared.values
          : flatten(rows);
      const reply = worker.append(from, values);
      if (attempt === 0 && next && next.length > 0) this.prepareAhead(next, out.head);
      let r: Awaited<typeof reply>;
      try {
        r = await reply;
      } catch (e) {
        // No answer (the thread died): the batch may or may not be stored; the next call finds out.
        this.known = this.prepared = undefined;
        const mark = { n: batch.length, head: out.head, committed: [...done, ...out.committed] };
        this.lost = { items: batch, marks: [...(this.lost?.items === batch ? this.lost.marks : []), mark] };
        throw e;
      }
      if (r.kind === "committed") {
        this.known = out.head;
        this.lost = undefined;
        return { head: { seq: out.head.seq, hash: out.head.hash }, committed: [...done, ...out.committed] };
      }
      this.prepared = undefined;
      if (r.kind === "failed") {
        this.known = undefined;
        throw workerFailure(r);
      }
      from = this.known = r.head;
    }
    throw new StoreError(
      "Unavailable",
      "audit: the chain head kept moving (other writers); batch not stored",
    );
  }

  /**
   * The longest mark of a lost batch whose last link is in the file, if `batch` starts with that
   * part of it. Read on this thread's own connection: the dead thread's COMMIT either happened or
   * rolled back, and a committed one is visible here. A failed read keeps `lost` for the next call.
   */
  private storedMark(
    lost: NonNullable<AuditEventRepository["lost"]>,
    batch: readonly AuditAppend[],
  ): { n: number; head: Head; committed: CommittedAuditEvent[] } | undefined {
    const raw = sqliteHandles.get(this.db);
    if (!raw) return undefined;
    for (const mark of [...lost.marks].sort((a, b) => b.n - a.n)) {
      if (mark.n > batch.length || !lost.items.slice(0, mark.n).every((it, i) => batch[i] === it)) continue;
      const row = (this.linkStmt ??= raw.prepare("select hash from audit_events where seq = ?")).get([
        mark.head.seq,
      ]) as { hash: string } | undefined;
      if (row?.hash === mark.head.hash) return mark;
    }
    return undefined;
  }

  /** Serialise `next` and hash it from `from`, for the next call (kept only if it starts there). */
  private prepareAhead(next: readonly AuditAppend[], from: Head): void {
    const rows = next.map((it) => {
      let r = this.ahead.get(it);
      if (!r) this.ahead.set(it, (r = toRow(it)));
      return r;
    });
    chainRows(next, rows, from, 0);
    this.prepared = { from, rows, values: flatten(rows) };
  }

  /** Multi-row INSERTs of SQLITE_CHUNK rows, then the rest row by row, all kept prepared. */
  private sqliteInsert(raw: SqliteHandle, rows: readonly Row[]): void {
    let i = 0;
    for (; i + SQLITE_CHUNK <= rows.length; i += SQLITE_CHUNK)
      (this.sqliteMany ??= raw.prepare(this.insertText(SQLITE_CHUNK))).run(
        rows.slice(i, i + SQLITE_CHUNK).flat(),
      );
    for (; i < rows.length; i++) (this.sqliteOne ??= raw.prepare(this.insertText(1))).run(rows[i] as Row);
  }

  /** The chain head read with prepared statements (the same answer as headIn). */
  private sqliteHead(raw: SqliteHandle): Head {
    const last = (this.sqliteHeadStmt ??= raw.prepare(HEAD_SQL)).get() as
      { seq: number | bigint; hash: string; bytes_end: number | bigint | null } | undefined;
    if (last) return { seq: Number(last.seq), hash: last.hash, bytes: Number(last.bytes_end ?? 0) };
    const anchor = (this.sqliteAnchorStmt ??= raw.prepare(ANCHOR_SQL)).get([ANCHOR_KEY]) as
      { value: string } | undefined;
    return parseAnchor(anchor?.value);
  }

  /** The last link (or the retention anchor, or GENESIS when nothing was ever stored). */
  async head(): Promise<ChainHead> {
    const { seq, hash } = await headIn(this.db);
    return { seq, hash };
  }

  /** The link just before the oldest stored one: GENESIS, or where retention cut the chain. */
  async anchor(): Promise<ChainHead> {
    const { seq, hash } = await anchorIn(this.db);
    return { seq, hash };
  }

  /**
   * Bytes of stored event JSON (UTF-8, the hashed text) from the anchor to the head: what a size
   * limit counts. Two single-row reads, whatever the size of the store.
   */
  async storedBytes(): Promise<number> {
    return this.db.transaction().execute(async (tx) => {
      const [head, anchor] = [await headIn(tx), await anchorIn(tx)];
      return head.bytes - anchor.bytes;
    });
  }

  /** Events matching the filter, oldest first, in pages; `after` is the previous page's continue token. */
  async query(
    f: AuditFilter,
    opts: { limit: number; continue?: string },
  ): Promise<{ items: StoredAuditEvent[]; continue?: string }> {
    const after = opts.continue !== undefined ? decodeContinue(opts.continue) : undefined;
    const rows = await this.db
      .selectFrom("audit_events")
      .select(["id", "seq", "prev_hash", "hash", "source", "cluster", "event", "ts"])
      .where((eb) =>
        eb.and([
          ...this.conditions(eb, f),
          ...(after
            ? [eb.or([eb("ts", ">", after.ts), eb.and([eb("ts", "=", after.ts), eb("seq", ">", after.seq)])])]
            : []),
        ]),
      )
      .orderBy("ts")
      .orderBy("seq")
      .limit(opts.limit + 1)
      .execute();
    const more = rows.length > opts.limit;
    const page = more ? rows.slice(0, opts.limit) : rows;
    const last = page[page.length - 1];
    return {
      items: page.map(fromRow),
      ...(more && last ? { continue: encodeContinue(Number(last.ts), Number(last.seq)) } : {}),
    };
  }

  /** Events appended after chain position `afterSeq`, in chain order: what `audit tail` polls. */
  async after(f: AuditFilter, afterSeq: number, limit: number): Promise<StoredAuditEvent[]> {
    const rows = await this.db
      .selectFrom("audit_events")
      .select(["id", "seq", "prev_hash", "hash", "source", "cluster", "event"])
      .where((eb) => eb.and([...this.conditions(eb, f), eb("seq", ">", afterSeq)]))
      .orderBy("seq")
      .limit(limit)
      .execute();
    return rows.map(fromRow);
  }

  /** The newest `limit` matching events, returned in chain order: where `audit tail` starts. */
  async latest(f: AuditFilter, limit: number): Promise<StoredAuditEvent[]> {
    const rows = await this.db
      .selectFrom("audit_events")
      .select(["id", "seq", "prev_hash", "hash", "source", "cluster", "event"])
      .where((eb) => eb.and(this.conditions(eb, f)))
      .orderBy("seq", "desc")
      .limit(limit)
      .execute();
    return rows.reverse().map(fromRow);
  }

  /** Stored links in storage order (by id), for the verifier; `afterId` pages. Not parsed. */
  async links(afterId: number, limit: number): Promise<StoredAuditLink[]> {
    const rows = await this.db
      .selectFrom("audit_events")
      .select(["id", "seq", "prev_hash", "hash", "source", "cluster", "event"])
      .where("id", ">", afterId)
      .orderBy("id")
      .limit(limit)
      .execute();
    return rows.map(linkFromRow);
  }

  async count(): Promise<number> {
    const r = await this.db
      .selectFrom("audit_events")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  /**
   * Retention: delete up to `limit` of the oldest links (in chain order) whose time is before
   * `before`, or, with `keep`, beyond the newest `keep` links, or, with `maxBytes`, as many of the
   * oldest as it takes for the stored event bytes to fit in `maxBytes`. The last deleted link
   * becomes the anchor that verification starts from. Small batches keep writers waiting only
   * briefly; the size cut reads at most `limit + 1` rows by `seq` (running totals, no SUM).
   */
  async trim(opts: { before?: number; keep?: number; maxBytes?: number; limit: number }): Promise<number> {
    return this.db.transaction().execute(async (tx) => {
      if (this.dialect === "postgres") await sql`select pg_advisory_xact_lock(${PG_CHAIN_LOCK})`.execute(tx);
      let maxSeq = -1;
      if (opts.keep !== undefined) {
        const h = await headIn(tx);
        maxSeq = Math.max(maxSeq, h.seq - opts.keep);
      }
      if (opts.before !== undefined) {
        const r = await tx
          .selectFrom("audit_events")
          .select("seq")
          .where("ts", ">=", opts.before)
          .orderBy("seq")
          .limit(1)
          .executeTakeFirst();
        const h = await headIn(tx);
        maxSeq = Math.max(maxSeq, r ? Number(r.seq) - 1 : h.seq);
      }
      if (opts.maxBytes !== undefined)
        maxSeq = Math.max(maxSeq, await sizeCut(tx, this.dialect, opts.maxBytes, opts.limit));
      const victims = await oldestLinks(tx, this.dialect, opts.limit, maxSeq);
      const last = victims[victims.length - 1];
      if (!last) return 0;
      await tx.deleteFrom("audit_events").where("seq", "<=", last.seq).execute();
      const value = JSON.stringify({ seq: last.seq, hash: last.hash, bytes: last.bytes });
      await tx
        .insertInto("settings")
        .values({ key: ANCHOR_KEY, value })
        .onConflict((oc) => oc.column("key").doUpdateSet({ value }))
        .execute();
      return victims.length;
    });
  }

  /** Rows serialised ahead of their batch (see appendCommitted's `next`); each is used once. */
  private readonly ahead = new WeakMap<AuditAppend, Row>();

  private takeRow(it: AuditAppend): Row {
    const r = this.ahead.get(it);
    if (!r) return toRow(it);
    this.ahead.delete(it);
    return r;
  }

  private sqliteMany: SqliteStatement | undefined;
  private sqliteOne: SqliteStatement | undefined;
  private sqliteHeadStmt: SqliteStatement | undefined;
  private linkStmt: SqliteStatement | undefined;
  private sqliteAnchorStmt: SqliteStatement | undefined;

  private insertText(n: number): string {
    return insertSql(n);
  }

  private conditions(eb: Eb, f: AuditFilter): Expression<SqlBool>[] {
    const c: Expression<SqlBool>[] = [];
    const eq = (
      col:
        | "cluster"
        | "verb"
        | "resource"
        | "namespace"
        | "name"
        | "decision"
        | "impact"
        | "audit_id"
        | "source"
        | "stage",
      v: string | undefined,
    ) => {
      if (v !== undefined) c.push(eb(col, "=", v));
    };
    eq("cluster", f.cluster);
    eq("verb", f.verb);
    eq("resource", f.resource);
    eq("namespace", f.namespace);
    eq("name", f.name);
    eq("decision", f.decision);
    eq("impact", f.impact);
    eq("audit_id", f.auditID);
    eq("source", f.source);
    eq("stage", f.stage);
    if (f.user !== undefined)
      // `impersonated_user <> ''` restates the partial index's condition (0005-audit-bytes.ts) so
      // both dialects use it for the second branch of the OR.
      c.push(
        eb.or([
          eb("username", "=", f.user),
          eb.and([eb("impersonated_user", "=", f.user), eb("impersonated_user", "<>", "")]),
        ]),
      );
    if (f.group !== undefined) {
      const needle = `\n${f.group}\n`;
      c.push(
        this.dialect === "postgres"
          ? sql<SqlBool>`strpos(${sql.ref("groups")}, ${needle}) > 0`
          : sql<SqlBool>`instr(${sql.ref("groups")}, ${needle}) > 0`,
      );
    }
    if (f.code !== undefined) c.push(eb("code", "=", f.code));
    if (f.incomplete) {
      c.push(eb("stage", "=", "RequestReceived"));
      c.push(
        eb.not(
          eb.exists(
            eb
              .selectFrom("audit_events as done")
              .select("done.seq")
              .whereRef("done.audit_id", "=", "audit_events.audit_id")
              .whereRef("done.source", "=", "audit_events.source")
              .where("done.stage", "in", ["ResponseComplete", "Panic"]),
          ),
        ),
      );
    }
    if (f.since !== undefined) c.push(eb("ts", ">=", f.since));
    if (f.until !== undefined) c.push(eb("ts", "<", f.until));
    return c;
  }
}

async function headIn(db: Kysely<Database>): Promise<Head> {
  const last = await db
    .selectFrom("audit_events")
    .select(["seq", "hash", "bytes_end"])
    .orderBy("seq", "desc")
    .limit(1)
    .executeTakeFirst();
  if (last) return { seq: Number(last.seq), hash: last.hash, bytes: Number(last.bytes_end ?? 0) };
  return anchorIn(db);
}

async function anchorIn(db: Kysely<Database>): Promise<Head> {
  const anchor = await db
    .selectFrom("settings")
    .select("value")
    .where("key", "=", ANCHOR_KEY)
    .executeTakeFirst();
  return parseAnchor(anchor?.value);
}

/** The stored anchor; one written before 0005-audit-bytes has no byte total, which then counts from 0. */
function parseAnchor(value: string | undefined): Head {
  if (value === undefined) return { ...GENESIS, bytes: 0 };
  const a = JSON.parse(value) as { seq: number; hash: string; bytes?: number };
  return { seq: a.seq, hash: a.hash, bytes: a.bytes ?? 0 };
}

/**
 * The last seq to delete so that the stored event bytes fit in `maxBytes` (-1 for none), reading at
 * most `limit + 1` of the oldest rows: cutting after link s keeps head.bytes - bytes_end(s) bytes, so
 * the cut is the first link whose bytes_end reaches head.bytes - maxBytes. When that lies beyond the
 * rows read, the cut is the last row read and the next call goes on from there.
 */
async function sizeCut(
  tx: Kysely<Database>,
  dialect: "sqlite" | "postgres",
  maxBytes: number,
  limit: number,
): Promise<number> {
  const [head, anchor] = [await headIn(tx), await anchorIn(tx)];
  const floor = head.bytes - maxBytes;
  if (floor <= anchor.bytes) return -1;
  const oldest = await oldestLinks(tx, dialect, limit + 1);
  for (const r of oldest) if (r.bytes >= floor) return r.seq;
  const last = oldest[oldest.length - 1];
  return last ? last.seq : -1;
}

/**
 * The oldest `limit` links (up to `maxSeq`) with their running byte totals. Rows stored before
 * 0005-audit-bytes have none (the migration did not rewrite them): theirs are the anchor's total plus
 * their lengths, read only for these rows, which are about to be deleted anyway.
 */
async function oldestLinks(
  tx: Kysely<Database>,
  dialect: "sqlite" | "postgres",
  limit: number,
  maxSeq?: number,
): Promise<{ seq: number; hash: string; bytes: number }[]> {
  const len = dialect === "postgres" ? sql`octet_length(event)` : sql`length(cast(event as blob))`;
  let q = tx
    .selectFrom("audit_events")
    .select([
      "seq",
      "hash",
      "bytes_end",
      sql<number | null>`case when bytes_end is null then ${len} end`.as("legacy_len"),
    ])
    .orderBy("seq")
    .limit(limit);
  if (maxSeq !== undefined) q = q.where("seq", "<=", maxSeq);
  const rows = await q.execute();
  let bytes = rows.some((r) => r.bytes_end === null) ? (await anchorIn(tx)).bytes : 0;
  return rows.map((r) => {
    bytes = r.bytes_end === null ? bytes + Number(r.legacy_len) : Number(r.bytes_end);
    return { seq: Number(r.seq), hash: r.hash, bytes };
  });
}

/**
 * Hash rows (serialised already) into the chain after `from`, setting each row's seq, hashes and
 * running byte total; rows before `start` were hashed already and are taken as they are.
 */
function chainRows(
  items: readonly AuditAppend[],
  rows: readonly Row[],
  from: Head,
  start: number,
): { head: Head; committed: CommittedAuditEvent[] } {
  const committed = new Array<CommittedAuditEvent>(rows.length);
  let head = from;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i] as Row;
    if (i >= start) {
      const link = chainNext(head, r[EVENT]);
      r[SEQ] = link.seq;
      r[PREV_HASH] = link.prevHash;
      r[HASH] = link.hash;
      r[BYTES_END] = head.bytes + Buffer.byteLength(r[EVENT]);
    }
    head = { seq: r[SEQ], hash: r[HASH], bytes: r[BYTES_END] };
    committed[i] = { event: (items[i] as AuditAppend).event, json: r[EVENT], seq: r[SEQ] };
  }
  return { head, committed };
}

/** The rows' column values, row after row: what the writer thread binds (a loop: Array.flat is slower). */
function flatten(rows: readonly Row[]): unknown[] {
  const out = new Array<unknown>(rows.length * INSERT_COLUMNS.length);
  let o = 0;
  for (const r of rows) for (const v of r) out[o++] = v;
  return out;
}

function sameHead(a: ChainHead, b: ChainHead): boolean {
  return a.seq === b.seq && a.hash === b.hash;
}

function workerFailure(r: { kind: string; message?: string; code?: string }): Error {
  return r.kind === "failed"
    ? new AuditWorkerError(r.message ?? "", r.code ?? "")
    : new AuditWorkerError(`unexpected answer from the audit writer thread: ${r.kind}`, "PROTOCOL");
}

/** The INSERT's column values of one event, in INSERT_COLUMNS order; seq and hashes set later. */
type Row = [
  seq: number,
  prevHash: string,
  hash: string,
  source: string,
  auditId: string,
  stage: string,
  ts: number,
  cluster: string,
  username: string,
  impersonatedUser: string,
  groups: string,
  verb: string,
  apiGroup: string,
  resource: string,
  namespace: string,
  name: string,
  code: number,
  decision: string,
  impact: string,
  event: string,
  bytesEnd: number,
];
const SEQ = 0;
const PREV_HASH = 1;
const HASH = 2;
const EVENT = 19;
const BYTES_END = 20;

function toRow(it: AuditAppend): Row {
  const e = it.event;
  const g1 = e.user.groups;
  const g2 = e.impersonatedUser?.groups;
  const groups = g1?.length || g2?.length ? `\n${[...(g1 ?? []), ...(g2 ?? [])].join("\n")}\n` : "";
  const ref = e.objectRef;
  const ann = e.annotations;
  return [
    0,
    "",
    "",
    it.source,
    e.auditID,
    e.stage,
    parseMicroTime(e.stageTimestamp),
    it.cluster,
    e.user.username ?? "",
    e.impersonatedUser?.username ?? "",
    groups,
    e.verb,
    ref?.apiGroup ?? "",
    ref?.resource ?? "",
    ref?.namespace ?? "",
    ref?.name ?? "",
    e.responseStatus?.code ?? 0,
    ann?.[ANNOTATION.decision] ?? "",
    ann?.[ANNOTATION.impact] ?? "",
    JSON.stringify(e),
    0,
  ];
}

/** PostgreSQL types of INSERT_COLUMNS, for the unnest() casts. */
const PG_TYPES: Record<(typeof INSERT_COLUMNS)[number], string> = {
  seq: "bigint",
  prev_hash: "text",
  hash: "text",
  source: "text",
  audit_id: "text",
  stage: "text",
  ts: "bigint",
  cluster: "text",
  username: "text",
  impersonated_user: "text",
  groups: "text",
  verb: "text",
  api_group: "text",
  resource: "text",
  namespace: "text",
  name: "text",
  code: "integer",
  decision: "text",
  impact: "text",
  event: "text",
  bytes_end: "bigint",
};
/**
 * The event texts travel as one parameter joined by newlines and are split on the server: JSON.stringify
 * never writes a raw newline (it escapes control characters inside strings), and a plain string
 * costs neither the client's array-literal escaping of every quote (about 10 µs an event, the
 * largest client cost) nor the server's array parsing. The short columns stay arrays.
 */
const PG_INSERT = `insert into audit_events (${INSERT_COLUMNS.join(", ")}) select * from unnest(${INSERT_COLUMNS.map(
  (c, i) => (c === "event" ? `string_to_array($${i + 1}::text, E'\\n')` : `$${i + 1}::${PG_TYPES[c]}[]`),
).join(", ")})`;
/** Rows per unnest() INSERT: large enough to amortise the round trip, small enough to stream. */
const PG_CHUNK = 2000;

/** Rows → one array per column (the unnest() parameters); the events as one newline-joined text. */
function columnsOf(rows: readonly Row[]): unknown[] {
  return INSERT_COLUMNS.map((_, c) =>
    c === EVENT ? rows.map((r) => r[c]).join("\n") : rows.map((r) => r[c]),
  );
}

function linkFromRow(r: {
  id: number;
  seq: number;
  prev_hash: string;
  hash: string;
  source: string;
  cluster: string;
  event: string;
}): StoredAuditLink {
  return {
    id: Number(r.id),
    seq: Number(r.seq),
    prevHash: r.prev_hash,
    hash: r.hash,
    source: r.source as AuditSource,
    cluster: r.cluster,
    json: r.event,
  };
}

function fromRow(r: {
  id: number;
  seq: number;
  prev_hash: string;
  hash: string;
  source: string;
  cluster: string;
  event: string;
}): StoredAuditEvent {
  const link = linkFromRow(r);
  return { ...link, event: JSON.parse(link.json) as Event };
}

/** Epoch milliseconds of a MicroTime; an unreadable time sorts as 0 rather than failing a batch. */
export function parseMicroTime(t: string): number {
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? 0 : ms;
}

function encodeContinue(ts: number, seq: number): string {
  return Buffer.from(JSON.stringify([ts, seq])).toString("base64url");
}

function decodeContinue(token: string): { ts: number; seq: number } {
  try {
    const v = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as unknown;
    if (Array.isArray(v) && v.length === 2 && v.every((n) => Number.isSafeInteger(n)))
      return { ts: v[0] as number, seq: v[1] as number };
  } catch {
    // fall through
  }
  throw new StoreError("BadRequest", "continue: not a token from a previous page");
}
