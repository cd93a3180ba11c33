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
import { StoreError } from "./errors.js";

/** Where a stored event came from: the gateway, a cluster's own audit webhook, or Gatehouse itself. */
export type AuditSource = "gateway" | "cluster" | "gatehouse";

/** One event to append, with the cluster it concerns ("" for none). */
export interface AuditAppend {
  event: Event;
  source: AuditSource;
  cluster: string;
}

/** A stored event with its chain link and storage position. */
export interface StoredAuditEvent extends ChainLink {
  id: number;
  source: AuditSource;
  cluster: string;
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
/** Rows per INSERT: 22 columns stay below SQLite's 32766 bound parameters. */
const INSERT_CHUNK = 1000;
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

  /** Append a batch in one transaction; returns the new head. */
  async append(items: readonly AuditAppend[]): Promise<ChainHead> {
    if (items.length === 0) return this.head();
    return this.db.transaction().execute(async (tx) => {
      if (this.dialect === "postgres") await sql`select pg_advisory_xact_lock(${PG_CHAIN_LOCK})`.execute(tx);
      let head = await headIn(tx);
      const rows = items.map((it) => {
        const link = chainNext(head, it.event);
        head = { seq: link.seq, hash: link.hash };
        return toRow(link, it);
      });
      // One prepared multi-row INSERT per chunk, its text cached by row count: the query builder
      // would otherwise build a node per value (20,000 per batch), which costs more than the insert.
      for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
        const chunk = rows.slice(i, i + INSERT_CHUNK);
        await tx.executeQuery(CompiledQuery.raw(this.insertText(chunk.length), chunk.flatMap(rowValues)));
      }
      return head;
    });
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

  /** Stored links in storage order (by id), for the verifier; `afterId` pages. */
  async links(afterId: number, limit: number): Promise<StoredAuditEvent[]> {
    const rows = await this.db
      .selectFrom("audit_events")
      .select(["id", "seq", "prev_hash", "hash", "source", "cluster", "event"])
      .where("id", ">", afterId)
      .orderBy("id")
      .limit(limit)
      .execute();
    return rows.map(fromRow);
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

  private readonly insertTexts = new Map<number, string>();

  private insertText(n: number): string {
    let text = this.insertTexts.get(n);
    if (text === undefined) {
      let p = 0;
      const row = () =>
        `(${INSERT_COLUMNS.map(() => (this.dialect === "postgres" ? `$${++p}` : "?")).join(", ")})`;
      text = `insert into audit_events (${INSERT_COLUMNS.join(", ")}) values ${Array.from({ length: n }, row).join(", ")}`;
      this.insertTexts.set(n, text);
    }
    return text;
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

function toRow(link: ChainLink, it: AuditAppend) {
  const e = it.event;
  const groups = [...(e.user.groups ?? []), ...(e.impersonatedUser?.groups ?? [])];
  return {
    seq: link.seq,
    prev_hash: link.prevHash,
    hash: link.hash,
    source: it.source,
    audit_id: e.auditID,
    stage: e.stage,
    ts: parseMicroTime(e.stageTimestamp),
    cluster: it.cluster,
    username: e.user.username,
    impersonated_user: e.impersonatedUser?.username ?? "",
    groups: groups.length > 0 ? `\n${groups.join("\n")}\n` : "",
    verb: e.verb,
    api_group: e.objectRef?.apiGroup ?? "",
    resource: e.objectRef?.resource ?? "",
    namespace: e.objectRef?.namespace ?? "",
    name: e.objectRef?.name ?? "",
    code: e.responseStatus?.code ?? 0,
    decision: e.annotations?.[ANNOTATION.decision] ?? "",
    impact: e.annotations?.[ANNOTATION.impact] ?? "",
    event: JSON.stringify(e),
  };
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

function rowValues(r: ReturnType<typeof toRow>): unknown[] {
  return INSERT_COLUMNS.map((c) => r[c]);
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
  return {
    id: Number(r.id),
    seq: Number(r.seq),
    prevHash: r.prev_hash,
    hash: r.hash,
    source: r.source as AuditSource,
    cluster: r.cluster,
    event: JSON.parse(r.event) as Event,
  };
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
