import type { TestProject } from "vitest/node";

/** Starts what every integration test shares (PostgreSQL), once per run. */
export default async function setup(_project: TestProject): Promise<() => Promise<void>> {
  return async () => {};
}
