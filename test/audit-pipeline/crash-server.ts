/**
 * Gatehouse in a child process, so a test can kill -9 it: the real server with the audit pipeline in
 * the mode given, in front of one cluster given by environment (GH_CLUSTER: JSON ClusterTarget).
 * Prints "READY <url> <caFile>" and, on the first start, "PASSWORD <admin password>" on stdout.
 */
import { pino } from "pino";
import { resolveConfig } from "../../src/config/index.js";
import { startGatehouse } from "../../src/server/app.js";
import { DEFAULT_AUDIT_SETTINGS, type AuditMode } from "../../src/audit/index.js";
import type { ClusterTarget } from "../../src/clusters/index.js";

const target = JSON.parse(process.env["GH_CLUSTER"] ?? "{}") as ClusterTarget;
const gh = await startGatehouse(
  resolveConfig([
    {
      name: "test",
      settings: {
        listen: `127.0.0.1:${process.env["GH_PORT"] ?? "0"}`,
        dataDir: process.env["GH_DATA_DIR"] ?? "",
      },
    },
  ]),
  {
    log: pino({ level: "warn" }, pino.destination(2)),
    now: () => Date.now(),
    onAdminPassword: (pw) => void process.stdout.write(`PASSWORD ${pw}\n`),
  },
  () => ({
    get: async (n) => (n === target.name ? target : undefined),
    list: async () => [target],
    invalidate: () => undefined,
  }),
  { ...DEFAULT_AUDIT_SETTINGS, mode: (process.env["GH_AUDIT_MODE"] ?? "batch") as AuditMode },
);
process.stdout.write(`READY ${gh.url} ${gh.caFile ?? ""}\n`);
process.on("SIGTERM", () => void gh.close().then(() => process.exit(0)));
