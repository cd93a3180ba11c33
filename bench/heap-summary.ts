/**
 * What a V8 heap snapshot holds, grouped by constructor: count and self size, largest first. Given a
 * second snapshot of the same process (before and after N watches, say), what the second added.
 * Snapshots: npx tsx bench/gateway.ts --heap-snapshot DIR (one before the watches, one at each step).
 * Run: npx tsx bench/heap-summary.ts [BEFORE.heapsnapshot] AFTER.heapsnapshot [--top 40] [--per N]
 */
import { parseArgs } from "node:util";
import { readHeapSnapshot } from "./heap-snapshot.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    top: { type: "string", default: "40" },
    /** Divide counts and sizes by N (for example the number of open watches). */
    per: { type: "string", default: "1" },
  },
});
if (positionals.length < 1 || positionals.length > 2) {
  console.error(
    "usage: npx tsx bench/heap-summary.ts [BEFORE.heapsnapshot] AFTER.heapsnapshot [--top 40] [--per N]",
  );
  process.exit(2);
}
const after = readHeapSnapshot(positionals[positionals.length - 1] as string);
const before = positionals.length === 2 ? readHeapSnapshot(positionals[0] as string) : undefined;
const per = Number(values.per);
const rows = [...after.groups].map(([key, g]) => {
  const b = before?.groups.get(key) ?? { count: 0, bytes: 0 };
  return { key, count: g.count - b.count, bytes: g.bytes - b.bytes };
});
const total = after.total - (before?.total ?? 0);
console.log(
  `${before ? "added" : "total"} self size ${(total / 1024 / 1024).toFixed(1)} MiB (${(total / per / 1024).toFixed(1)} KB per ${per})`,
);
console.log("bytes/per  count/per  group");
for (const r of rows.sort((a, b) => b.bytes - a.bytes).slice(0, Number(values.top)))
  console.log(
    `${(r.bytes / per).toFixed(0).padStart(9)}  ${(r.count / per).toFixed(2).padStart(9)}  ${r.key.slice(0, 100)}`,
  );
