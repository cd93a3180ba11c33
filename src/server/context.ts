import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { Duplex } from "node:stream";
import type { UserInfo } from "../core/k8s/index.js";

/** One request as it travels down the pipeline. Filters add to it; nothing removes from it. */
export interface RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** Parsed URL, for the query string. Its pathname is normalised: route on rawPath instead. */
  readonly url: URL;
  /** The path exactly as the client sent it (before "?"), never normalised: ".." stays "..". */
  readonly rawPath: string;
  readonly requestId: string;
  readonly receivedAt: number;
  log: Logger;
  /** Set by the authentication filter; absent only on the public paths it lets through. */
  user?: UserInfo;
  /** The route label for metrics (never the raw path: that would be unbounded). */
  route: string;
  /** Present on HTTP/1.1 upgrade requests: the raw client socket and any bytes read past the head. */
  readonly upgrade?: { socket: Duplex; head: Buffer };
  /** What the gateway learned that the audit filter records (set as it is decided). */
  audit?: AuditNotes;
}

/** Facts for audit events that only the gateway handler knows. */
export interface AuditNotes {
  cluster?: string;
  /** Set once central authorization has run, as kube-apiserver's authorization filter records it. */
  decision?: "allow" | "forbid";
  reason?: string;
  /** The user the request acts as, when the client impersonated someone. */
  impersonatedUser?: UserInfo;
}

/** Add audit facts to a request (keeps what was noted before). */
export function noteAudit(ctx: RequestContext, notes: AuditNotes): void {
  ctx.audit = { ...ctx.audit, ...notes };
}

export type Handler = (ctx: RequestContext) => Promise<void>;
export type Filter = (next: Handler) => Handler;
