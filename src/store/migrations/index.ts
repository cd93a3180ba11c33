import type { Migration, MigrationProvider } from "kysely";
import { m0001Initial } from "./0001-initial.js";

/** Every migration, in order. Names sort in the order they apply; never rename or edit an applied one. */
const MIGRATIONS: Record<string, Migration> = {
  "0001-initial": m0001Initial,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => MIGRATIONS,
};
