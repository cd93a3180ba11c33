import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { impersonatorManifest, impersonatorObjects } from "../../src/clusters/index.js";
import { gatehouse } from "../cli/run.js";

const DOC = fileURLToPath(new URL("../../docs/clusters.md", import.meta.url));

describe("the manual alternative in docs/clusters.md", { timeout: 60_000 }, () => {
  it("shows exactly the objects `cluster add` creates (golden: the docs cannot drift)", () => {
    const text = readFileSync(DOC, "utf8");
    const m = text.match(
      /<!-- impersonator-manifest:begin -->\s*```yaml\n([\s\S]*?)```\s*<!-- impersonator-manifest:end -->/,
    );
    expect(m, "the manifest block in docs/clusters.md").not.toBeNull();
    expect(m?.[1]).toBe(impersonatorManifest());
    expect(parseAllDocuments(m?.[1] as string).map((d) => d.toJS() as unknown)).toEqual(
      impersonatorObjects(),
    );
  });

  it("is what `gatehouse cluster impersonator-manifest` prints", async () => {
    const r = await gatehouse(["cluster", "impersonator-manifest"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(impersonatorManifest());
  });
});
