import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    globalSetup: ["test/harness/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 180_000,
    // Integration tests start real kube-apiservers and PostgreSQL; two cores only.
    maxWorkers: 2,
    reporters: ["default", "./test/harness/summary-reporter.ts"],
  },
});
