import { Worker } from "node:worker_threads";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { INSERT_COLUMNS } from "./audit-sqlite.js";
import type { Head, WorkerReply, WorkerRequest } from "./audit-worker-protocol.js";

/** A batch the writer thread refused or could not take; `code` is SQLite's when it has one. */
export class AuditWorkerError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = "AuditWorkerError";
  }
}

type Settle = { resolve: (r: WorkerReply) => void; reject: (e: Error) => void };

/**
 * The main thread's side of the SQLite audit writer thread (audit-worker.ts). The thread starts on
 * the first request and again after it died; requests are answered in order. The thread is unref'd
 * while nothing waits on it, so an idle store never keeps the process alive.
 */
export class AuditWorkerClient {
  private worker: Worker | undefined;
  private readonly waiting = new Map<number, Settle>();
  private nextId = 1;
  private closed = false;

  constructor(private readonly path: string) {}

  /**
   * Append these rows (column values, row after row) if the head in the file is `expect`; an
   * undefined `expect` only reads the head. Resolves after COMMIT returned in the thread.
   */
  append(expect: Head | undefined, values: unknown[]): Promise<WorkerReply> {
    if (this.closed) return Promise.reject(new AuditWorkerError("the store is closed", "CLOSED"));
    const w = (this.worker ??= this.start());
    const id = this.nextId++;
    const req: WorkerRequest = {
      kind: "append",
      id,
      expect: expect && { seq: expect.seq, hash: expect.hash, bytes: expect.bytes },
      values,
    };
    return new Promise<WorkerReply>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      if (this.waiting.size === 1) w.ref();
      w.postMessage(req);
    });
  }

  /** Let queued requests finish, then close the thread's connection and wait for it to end. */
  async close(timeoutMs = 5000): Promise<void> {
    this.closed = true;
    const w = this.worker;
    if (!w) return;
    const exited = new Promise<void>((r) => w.once("exit", () => r()));
    w.postMessage({ kind: "close" } satisfies WorkerRequest);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((r) => (timer = setTimeout(() => r("late"), timeoutMs)));
    if ((await Promise.race([exited, late])) === "late") await w.terminate();
    clearTimeout(timer);
    this.worker = undefined;
  }

  /** End the thread at once, as a crash would: unanswered requests fail; the next one starts a new thread. */
  async terminate(): Promise<void> {
    await this.worker?.terminate();
  }

  private start(): Worker {
    // From dist/ the thread runs the compiled JavaScript. From the sources (tsx, vitest) it is
    // TypeScript: a worker does not inherit the parent's module hooks (and --import of tsx in its
    // execArgv does not take in Node 20), so a two-line bootstrap registers tsx in the thread first.
    const workerData = { path: this.path, columns: INSERT_COLUMNS.length };
    if (!import.meta.url.endsWith(".ts"))
      return this.listen(new Worker(new URL("./audit-worker.js", import.meta.url), { workerData }));
    const tsxApi = join(
      dirname(createRequire(import.meta.url).resolve("tsx/package.json")),
      "dist/esm/api/index.mjs",
    );
    const script = new URL("./audit-worker.ts", import.meta.url).href;
    const boot = `import(${JSON.stringify(pathToFileURL(tsxApi).href)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(script)}); })`;
    return this.listen(new Worker(boot, { eval: true, workerData }));
  }

  private listen(w: Worker): Worker {
    w.unref();
    w.on("message", (r: WorkerReply) => {
      const s = this.waiting.get(r.id);
      this.waiting.delete(r.id);
      if (this.waiting.size === 0) w.unref();
      s?.resolve(r);
    });
    w.on("error", (e) => this.fail(w, e));
    w.on("exit", (code) =>
      this.fail(w, new AuditWorkerError(`the audit writer thread exited (${code})`, "EXITED")),
    );
    return w;
  }

  /** The thread died: whatever it had not answered fails (the writer retries), and the next request starts a new one. */
  private fail(w: Worker, e: Error): void {
    if (this.worker === w) this.worker = undefined;
    const left = [...this.waiting.values()];
    this.waiting.clear();
    for (const s of left) s.reject(e);
  }
}
