import type { TestProject } from "vitest/node";
import { startPostgres } from "./postgres.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** Base URL of the run's PostgreSQL server; tests create their own databases on it. */
    postgresUrl: string;
  }
}

/** Starts what many test files share (one PostgreSQL server), once per run. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const pg = await startPostgres();
  project.provide("postgresUrl", pg.url);
  return async () => {
    await pg.stop();
  };
}
