/**
 * A process that appends audit events through the writer with the SQLite writer thread until it is
 * killed, printing "ACK <auditID>" for each event once its commit was acknowledged (blocking mode).
 * store-worker.test.ts kills it with SIGKILL and checks every acknowledged event is stored.
 */
import { pino } from "pino";
import { Registry } from "prom-client";
import { Store } from "../../src/store/index.js";
import { AuditWriter, createAuditMetrics } from "../../src/audit/index.js";
import { alice, gatewayEvent } from "./events.js";

const store = await Store.open({ kind: "sqlite", path: process.env["GH_DB"] ?? "" }, { auditWorker: true });
const writer = new AuditWriter(store.audit, {
  maxQueue: 10_000,
  maxBatch: 200,
  log: pino({ level: "silent" }),
  metrics: createAuditMetrics(new Registry()),
});
process.stdout.write("READY\n");
for (let i = 0; ; i += 100) {
  await Promise.all(
    Array.from({ length: 100 }, async (_, k) => {
      const auditID = `k-${i + k}`;
      await writer.enqueueDurable({
        source: "gateway",
        cluster: "c1",
        event: gatewayEvent({
          auditID,
          uri: `/api/v1/namespaces/ns/pods/p${i + k}`,
          user: alice,
          at: Date.now(),
        }),
      });
      process.stdout.write(`ACK ${auditID}\n`);
    }),
  );
}
