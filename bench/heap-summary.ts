/**
 * What a V8 heap snapshot holds, grouped by constructor: count and self size, largest first. Run on two
 * snapshots (before and after N watches, say) to see what each watch keeps.
 * Run: npx tsx bench/heap-summary.ts FILE.heapsnapshot [--top 40] [--per N]
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    top: { type: "string", default: "40" },
    /** Divide counts and sizes by N (for example the number of open watches). */
    per: { type: "string", default: "1" },
  },
});
const file = positionals[0];
if (!file) {
  console.error("usage: npx tsx bench/heap-summary.ts FILE.heapsnapshot [--top 40] [--per N]");
  process.exit(2);
}

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}
const snap = JSON.parse(readFileSync(file, "utf8")) as Snapshot;
const fields = snap.snapshot.meta.node_fields;
const types = snap.snapshot.meta.node_types[0];
const [iType, iName, iSize] = ["type", "name", "self_size"].map((f) => fields.indexOf(f)) as [
  number,
  number,
  number,
];
const groups = new Map<string, { count: number; bytes: number }>();
let total = 0;
for (let i = 0; i < snap.nodes.length; i += fields.length) {
  const type = types[snap.nodes[i + iType] as number] ?? "?";
  const name =
    type === "object" || type === "native" || type === "closure"
      ? snap.strings[snap.nodes[i + iName] as number]
      : "";
  const key = name ? `${type} ${name}` : type;
  const size = snap.nodes[i + iSize] as number;
  total += size;
  const g = groups.get(key) ?? { count: 0, bytes: 0 };
  g.count++;
  g.bytes += size;
  groups.set(key, g);
}
const per = Number(values.per);
console.log(
  `total self size ${(total / 1024 / 1024).toFixed(1)} MiB (${(total / per / 1024).toFixed(1)} KB per ${per})`,
);
console.log("bytes/per  count/per  group");
for (const [key, g] of [...groups].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, Number(values.top)))
  console.log(
    `${(g.bytes / per).toFixed(0).padStart(9)}  ${(g.count / per).toFixed(2).padStart(9)}  ${key.slice(0, 100)}`,
  );
