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
/** Rows per SQLite multi-row INSERT (20 parameters each, far below SQLite's 32766). */
const SQLITE_CHUNK = 50;
const ANCHOR_KEY = "audit.chain.anchor";

/**
 * Audit events, chained by hash (core/audit/chain.ts). `append` is the group commit: one
 * transaction per batch, reading the chain head inside it (under a lock on PostgreSQL) so that
 * several writers never fork the chain. Queries run on indexed columns copied out of each event.
 */
export class AuditEventRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: "sqlite" | "postgres",
  ) {}

  /**
   * Append a batch in one transaction; returns the new head. Each event is serialised once; those
   * bytes are hashed into the chain and stored as they are (`json` of each committed event).
   */
  async append(items: readonly AuditAppend[]): Promise<ChainHead> {
    return (await this.appendCommitted(items)).head;
  }

  /** append, also returning the committed events with their stored JSON, in chain order. */
  async appendCommitted(
    items: readonly AuditAppend[],
  ): Promise<{ head: ChainHead; committed: CommittedAuditEvent[] }> {
    if (items.length === 0) return { head: await this.head(), committed: [] };
    // Serialised and reduced to column values before the transaction: only hashing needs the head.
    const rows = items.map(toRow);
    const chain = (from: ChainHead): { head: ChainHead; committed: CommittedAuditEvent[] } => {
      let head = from;
      const committed: CommittedAuditEvent[] = new Array<CommittedAuditEvent>(rows.length);
      for (let i = 0; i < rows.length; i++) {
        const r = rows[i] as Row;
        const link = chainNext(head, r[EVENT]);
        r[SEQ] = link.seq;
        r[PREV_HASH] = link.prevHash;
        r[HASH] = link.hash;
        head = { seq: link.seq, hash: link.hash };
        committed[i] = { event: (items[i] as AuditAppend).event, json: link.json, seq: link.seq };
      }
      return { head, committed };
    };
    const raw = this.dialect === "sqlite" ? sqliteHandles.get(this.db) : undefined;
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
        for (let i = 0; i < rows.length; i += PG_CHUNK)
          await tx.executeQuery(CompiledQuery.raw(PG_INSERT, columnsOf(rows.slice(i, i + PG_CHUNK))));
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
  private sqliteHead(raw: SqliteHandle): ChainHead {
    const last = (this.sqliteHeadStmt ??= raw.prepare(
      "select seq, hash from audit_events order by seq desc limit 1",
    )).get() as { seq: number | bigint; hash: string } | undefined;
    if (last) return { seq: Number(last.seq), hash: last.hash };
    const anchor = (this.sqliteAnchorStmt ??= raw.prepare("select value from settings where key = ?")).get([
      ANCHOR_KEY,
    ]) as { value: string } | undefined;
    return anchor ? (JSON.parse(anchor.value) as ChainHead) : GENESIS;
  }

  /** The last link (or the retention anchor, or GENESIS when nothing was ever stored). */
  head(): Promise<ChainHead> {
    return headIn(this.db);
  }

  /** The link just before the oldest stored one: GENESIS, or where retention cut the chain. */
  async anchor(): Promise<ChainHead> {
    const row = await this.db
      .selectFrom("settings")
      .select("value")
      .where("key", "=", ANCHOR_KEY)
      .executeTakeFirst();
    return row ? (JSON.parse(row.value) as ChainHead) : GENESIS;
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
   * `cutoff`, or, with `keep`, beyond the newest `keep` links. The last deleted link becomes the
   * anchor that verification starts from. Small batches keep writers waiting only briefly.
   */
  async trim(opts: { before?: number; keep?: number; limit: number }): Promise<number> {
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
      const victims = await tx
        .selectFrom("audit_events")
        .select(["seq", "hash"])
        .where("seq", "<=", maxSeq)
        .orderBy("seq")
        .limit(opts.limit)
        .execute();
      const last = victims[victims.length - 1];
      if (!last) return 0;
      await tx.deleteFrom("audit_events").where("seq", "<=", Number(last.seq)).execute();
      const value = JSON.stringify({ seq: Number(last.seq), hash: last.hash });
      await tx
        .insertInto("settings")
        .values({ key: ANCHOR_KEY, value })
        .onConflict((oc) => oc.column("key").doUpdateSet({ value }))
        .execute();
      return victims.length;
    });
  }

  private sqliteMany: SqliteStatement | undefined;
  private sqliteOne: SqliteStatement | undefined;
  private sqliteHeadStmt: SqliteStatement | undefined;
  private sqliteAnchorStmt: SqliteStatement | undefined;

  private insertText(n: number): string {
    const row = `(${INSERT_COLUMNS.map(() => "?").join(", ")})`;
    return `insert into audit_events (${INSERT_COLUMNS.join(", ")}) values ${Array.from({ length: n }, () => row).join(", ")}`;
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
      c.push(eb.or([eb("username", "=", f.user), eb("impersonated_user", "=", f.user)]));
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

async function headIn(db: Kysely<Database>): Promise<ChainHead> {
  const last = await db
    .selectFrom("audit_events")
    .select(["seq", "hash"])
    .orderBy("seq", "desc")
    .limit(1)
    .executeTakeFirst();
  if (last) return { seq: Number(last.seq), hash: last.hash };
  const anchor = await db
    .selectFrom("settings")
    .select("value")
    .where("key", "=", ANCHOR_KEY)
    .executeTakeFirst();
  return anchor ? (JSON.parse(anchor.value) as ChainHead) : GENESIS;
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
];
const SEQ = 0;
const PREV_HASH = 1;
const HASH = 2;
const EVENT = 19;

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
  ];
}

const INSERT_COLUMNS = [
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
] as const;

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
};
const PG_INSERT = `insert into audit_events (${INSERT_COLUMNS.join(", ")}) select * from unnest(${INSERT_COLUMNS.map((c, i) => `$${i + 1}::${PG_TYPES[c]}[]`).join(", ")})`;
/** Rows per unnest() INSERT: large enough to amortise the round trip, small enough to stream. */
const PG_CHUNK = 2000;

/** Rows → one array per column (the unnest() parameters). */
function columnsOf(rows: readonly Row[]): unknown[][] {
  return INSERT_COLUMNS.map((_, c) => rows.map((r) => r[c]));
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
