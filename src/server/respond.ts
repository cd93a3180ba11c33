import type { ServerResponse } from "node:http";
import { failure, type Status, type StatusReason } from "../core/k8s/index.js";

/** Write a JSON body. Headers are set, never appended. */
export function writeJSON(res: ServerResponse, code: number, body: unknown): void {
  const data = JSON.stringify(body);
  res.statusCode = code;
  res.setHeader("Content-Type", "application/json");
  res.setHeader("Content-Length", Buffer.byteLength(data));
  res.setHeader("Cache-Control", "no-store");
  res.end(data);
}

/** Write a meta/v1 Status, the error shape kubectl and client-go read. */
export function writeStatus(res: ServerResponse, status: Status): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // As kube-apiserver: a Status that says when to try again says it in the header too.
  const after = status.details?.retryAfterSeconds;
  if (after !== undefined && after > 0) res.setHeader("Retry-After", String(after));
  writeJSON(res, status.code, status);
}

export function writeFailure(res: ServerResponse, reason: StatusReason, message: string): void {
  writeStatus(res, failure(reason, message));
}

export function writeText(res: ServerResponse, code: number, text: string): void {
  res.statusCode = code;
  res.setHeader("Content-Type", "text/plain; charset=utf-8");
  res.setHeader("Content-Length", Buffer.byteLength(text));
  res.setHeader("X-Content-Type-Options", "nosniff");
  res.end(text);
}
