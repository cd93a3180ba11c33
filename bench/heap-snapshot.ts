import { readFileSync } from "node:fs";

/** One V8 heap snapshot (.heapsnapshot, written after a full GC) grouped by constructor. */
export interface HeapGroups {
  /** Self size of every node, bytes. */
  total: number;
  /** "object ServerResponse", "closure finish", "array", ... → count and self size. */
  groups: Map<string, { count: number; bytes: number }>;
}

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

export function readHeapSnapshot(file: string): HeapGroups {
  const snap = JSON.parse(readFileSync(file, "utf8")) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const [iType, iName, iSize] = ["type", "name", "self_size"].map((f) => fields.indexOf(f)) as [
    number,
    number,
    number,
  ];
  const named = new Set(["object", "native", "closure"]);
  const groups = new Map<string, { count: number; bytes: number }>();
  let total = 0;
  for (let i = 0; i < snap.nodes.length; i += fields.length) {
    const type = types[snap.nodes[i + iType] as number] ?? "?";
    const name = named.has(type) ? snap.strings[snap.nodes[i + iName] as number] : "";
    const key = name ? `${type} ${name}` : type;
    const size = snap.nodes[i + iSize] as number;
    total += size;
    const g = groups.get(key) ?? { count: 0, bytes: 0 };
    g.count++;
    g.bytes += size;
    groups.set(key, g);
  }
  return { total, groups };
}
