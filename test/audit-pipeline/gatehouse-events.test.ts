import { describe, expect, it } from "vitest";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { Registry } from "prom-client";
import { DEFAULT_AUDIT_SETTINGS, startAuditPipeline } from "../../src/audit/index.js";
import { formatMicroTime } from "../../src/core/audit/index.js";
import { Store } from "../../src/store/index.js";

describe("Gatehouse's own actions in the audit store", () => {
  it("stores a failed login as a gatehouse event, queryable by code, user and impact", async () => {
    const store = await Store.open({
      kind: "sqlite",
      path: join(mkdtempSync(join(tmpdir(), "gh-ghev-")), "db"),
    });
    const p = startAuditPipeline(store, DEFAULT_AUDIT_SETTINGS, {
      log: pino({ level: "silent" }),
      now: () => Date.now(),
      registry: new Registry(),
    });
    try {
      await p.recordGatehouseEvent(
        { kind: "login.failed", provider: "local", reason: "bad password", attemptedUsername: "mallory" },
        {
          auditID: "login-1",
          requestURI: "/login",
          sourceIPs: ["10.0.0.9"],
          timestamp: formatMicroTime(Date.now()),
        },
      );
      await p.recordGatehouseEvent(
        { kind: "accesskey.revoked", keyId: "k1", subject: "alice", reason: "left" },
        {
          auditID: "revoke-1",
          actor: { username: "admin", groups: ["gatehouse:admins"] },
          requestURI: "/apis/gatehouse.io/v1alpha1/accesskeys/k1",
          sourceIPs: [],
          timestamp: formatMicroTime(Date.now()),
        },
      );
      await p.flush();
      const failed = await store.audit.query({ source: "gatehouse", code: 401 }, { limit: 10 });
      expect(failed.items).toHaveLength(1);
      expect(failed.items[0]?.event).toMatchObject({
        auditID: "login-1",
        user: { username: "system:anonymous" },
        annotations: { "gatehouse.io/event-kind": "login.failed" },
      });
      const privileged = await store.audit.query({ user: "admin", impact: "privileged" }, { limit: 10 });
      expect(privileged.items.map((i) => i.event.auditID)).toEqual(["revoke-1"]);
    } finally {
      await p.close();
      await store.close();
    }
  });
});
