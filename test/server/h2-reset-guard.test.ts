import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { H2_LIMITS, listen, type RunningServer } from "../../src/server/server.js";
import { ensureSelfSigned } from "../../src/server/tls.js";
import { FLAG, FRAME, H2_ERROR, frame, headerBlock, rawH2, rstStream } from "../e2e/h2-raw.js";

/**
 * The rapid-reset guard when the event loop is busy: each request costs the handler `busyMs` of
 * synchronous work, so the resets of one burst reach JavaScript spread over seconds. nghttp2's own
 * limiter (a burst of 1,000) terminates the session first and Node only stops reading; the guard must
 * still close the connection.
 */
describe("HTTP/2 rapid-reset guard on a busy event loop", () => {
  let server: RunningServer;
  let caFile = "";
  const busyMs = 8;
  const handled: number[] = [];

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "gatehouse-h2guard-"));
    const cert = await ensureSelfSigned(dir, "127.0.0.1", new Date());
    caFile = cert.caFile;
    server = await listen(
      { host: "127.0.0.1", port: 0, certPem: cert.certPem, keyPem: cert.keyPem },
      async (ctx) => {
        for (const end = Date.now() + busyMs; Date.now() < end;);
        handled.push(Date.now());
        if (!ctx.res.destroyed) ctx.res.end("ok");
      },
      pino({ level: "silent" }),
      () => Date.now(),
    );
  });
  afterAll(async () => {
    await server?.close();
  });

  it("closes a connection whose burst of resets reaches JavaScript slower than the burst allowance refills", async () => {
    const c = await rawH2(server.url, caFile);
    try {
      await c.waitFor((f) => f.type === FRAME.SETTINGS);
      const block = headerBlock([
        [":method", "GET"],
        [":scheme", "https"],
        [":authority", "localhost"],
        [":path", "/busy"],
      ]);
      const burst: Buffer[] = [];
      for (let id = 1; id < 2 * 1200; id += 2)
        burst.push(
          frame(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, id, block),
          rstStream(id, H2_ERROR.CANCEL),
        );
      c.send(Buffer.concat(burst));
      await Promise.race([c.closed, new Promise((r) => setTimeout(r, 30_000))]);
      // The premise: JavaScript saw fewer resets in any one second than the burst allowance, so a count
      // per second would never have fired (what happened before the leaky bucket).
      const perSecond = new Map<number, number>();
      for (const t of handled)
        perSecond.set(Math.floor(t / 1000), (perSecond.get(Math.floor(t / 1000)) ?? 0) + 1);
      expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(H2_LIMITS.resetBurst);
      expect(c.frames.some((f) => f.type === FRAME.GOAWAY)).toBe(true);
      expect(c.socket.destroyed || c.socket.readableEnded).toBe(true);
    } finally {
      c.close();
    }
  }, 60_000);
});
