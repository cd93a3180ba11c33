import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const FILE = fileURLToPath(new URL("./RESULTS.md", import.meta.url));

/** Replace this benchmark's section of bench/RESULTS.md (between its markers), leaving others alone. */
export function writeSection(name: string, markdown: string): void {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  let text = existsSync(FILE)
    ? readFileSync(FILE, "utf8")
    : "# Benchmark results\n\nEach section is written by the benchmark named in it; rerun its command to reproduce.\n";
  const block = `${start}\n${markdown.trim()}\n${end}`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  text =
    i >= 0 && j > i
      ? text.slice(0, i) + block + text.slice(j + end.length)
      : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(FILE, text);
}
