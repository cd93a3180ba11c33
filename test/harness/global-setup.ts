import type { TestProject } from "vitest/node";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { startPostgres } from "./postgres.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** Base URL of the run's PostgreSQL server; tests create their own databases on it. */
    postgresUrl: string;
  }
}

/** Starts what many test files share (one PostgreSQL server), once per run. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // CLI tests run the built command (node dist/...), as users do; tsx would cost seconds per call.
  const root = fileURLToPath(new URL("../..", import.meta.url));
  const build = spawnSync(`${root}node_modules/.bin/tsc`, ["-p", "tsconfig.build.json"], {
    cwd: root,
    encoding: "utf8",
  });
  if (!(await import("node:fs")).existsSync(`${root}dist/src/cli/main.js`))
    throw new Error(`build failed:\n${build.stdout}${build.stderr}`);
  const pg = await startPostgres();
  project.provide("postgresUrl", pg.url);
  return async () => {
    await pg.stop();
  };
}
