import { describe, expect, it } from "vitest";
import { mkdtempSync, readdirSync, readFileSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { Registry } from "prom-client";
import { createAuditMetrics, legacyLine, LogFileSink, startAuditPipeline } from "../../src/audit/index.js";
import { resolveConfig } from "../../src/config/index.js";
import { Store } from "../../src/store/index.js";
import type { Event } from "../../src/core/audit/index.js";
import { alice, gatewayEvent } from "./events.js";

const T = Date.parse("2026-01-01T00:00:00.120Z");
const silent = pino({ level: "silent" });

describe("the audit log file sink", () => {
  it("writes kube-apiserver's legacy line, byte for byte", () => {
    const e = gatewayEvent({ auditID: "a1", uri: "/api/v1/namespaces/ns1/pods/p", user: alice, at: T });
    expect(legacyLine(e)).toBe(
      '2026-01-01T00:00:00.12Z AUDIT: id="a1" stage="ResponseComplete" ip="127.0.0.1" method="get" user="alice" ' +
        'groups="\\"dev\\",\\"system:authenticated\\"" as="<self>" asgroups="<lookup>" user-agent="" namespace="ns1" ' +
        'uri="/api/v1/namespaces/ns1/pods/p" response="200"',
    );
    const received: Event = {
      ...gatewayEvent({
        auditID: "a2",
        uri: "/readyz",
        user: { username: "admin", groups: [] },
        at: Date.parse("2026-01-01T00:00:00Z"),
        stage: "RequestReceived",
      }),
      impersonatedUser: { username: "viewer", groups: ["readers"] },
    };
    delete received.responseStatus;
    expect(legacyLine(received)).toBe(
      '2026-01-01T00:00:00Z AUDIT: id="a2" stage="RequestReceived" ip="127.0.0.1" method="get" user="admin" groups="<none>" ' +
        'as="viewer" asgroups="\\"readers\\"" user-agent="" namespace="<none>" uri="/readyz" response="<deferred>"',
    );
  });

  it("rotates at maxsize into timestamped files and keeps at most maxbackup of them, deleting those past maxage", () => {
    const dir = mkdtempSync(join(tmpdir(), "gh-audit-log-"));
    let now = T;
    const sink = new LogFileSink(
      {
        path: join(dir, "audit.log"),
        format: "json",
        maxSizeBytes: 3000,
        maxAgeMs: 3_600_000,
        maxBackups: 2,
      },
      silent,
      createAuditMetrics(new Registry()),
      () => now,
    );
    for (let i = 0; i < 12; i++) {
      now += 1000;
      sink.write([gatewayEvent({ auditID: `r-${i}`, uri: `/api/v1/pods/p${i}`, user: alice, at: now })]);
    }
    const files = readdirSync(dir).sort();
    expect(files.length).toBe(3);
    expect(files).toContain("audit.log");
    for (const f of files.filter((f) => f !== "audit.log"))
      expect(f).toMatch(/^audit-2026-01-01T00-00-\d\d\.\d{3}\.log$/);
    const lines = readFileSync(join(dir, "audit.log"), "utf8").trim().split("\n");
    expect((JSON.parse(lines[lines.length - 1] as string) as Event).auditID).toBe("r-11");
    // Age: make one backup old, and the next rotation deletes it.
    const old = files.find((f) => f !== "audit.log") as string;
    utimesSync(join(dir, old), new Date(T - 86_400_000), new Date(T - 86_400_000));
    for (let i = 12; i < 20; i++) {
      now += 1000;
      sink.write([gatewayEvent({ auditID: `r-${i}`, uri: `/api/v1/pods/p${i}`, user: alice, at: now })]);
    }
    expect(readdirSync(dir)).not.toContain(old);
    expect(readdirSync(dir).length).toBeLessThanOrEqual(3);
    sink.close();
  });

  it("receives committed events from the pipeline when --audit-log-path is set, in chain order", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gh-audit-log-"));
    const config = resolveConfig([
      {
        name: "flags",
        settings: {
          dataDir: dir,
          auditLogPath: join(dir, "logs", "audit.log"),
          auditLogFormat: "legacy",
          auditLogMaxSize: "1",
        },
      },
    ]);
    expect(config.audit.logFile).toMatchObject({
      format: "legacy",
      maxSizeBytes: 1024 * 1024,
      maxBackups: 0,
    });
    const store = await Store.open(config.database);
    const p = startAuditPipeline(store, config.audit, {
      log: silent,
      now: () => Date.now(),
      registry: new Registry(),
    });
    try {
      for (let i = 0; i < 5; i++)
        await p.recorder.record(
          gatewayEvent({ auditID: `p-${i}`, uri: "/api/v1/pods", user: alice, at: T }),
          "gateway",
          "c1",
        );
      await p.flush();
      const lines = readFileSync(join(dir, "logs", "audit.log"), "utf8")
        .trim()
        .split("\n");
      expect(lines.map((l) => l.match(/id="(p-\d)"/)?.[1])).toEqual(["p-0", "p-1", "p-2", "p-3", "p-4"]);
    } finally {
      await p.close();
      await store.close();
    }
  });

  it("refuses an unknown log format", () => {
    expect(() =>
      resolveConfig([
        {
          name: "flags",
          settings: {
            dataDir: mkdtempSync(join(tmpdir(), "gh-")),
            auditLogPath: "/tmp/x.log",
            auditLogFormat: "xml",
          },
        },
      ]),
    ).toThrow(/auditLogFormat \(from flags\): expected json or legacy/);
  });
});
