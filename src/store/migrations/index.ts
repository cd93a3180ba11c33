import type { Migration, MigrationProvider } from "kysely";
import { m0001Initial } from "./0001-initial.js";
import { m0002Audit } from "./0002-audit.js";
import { m0003Identity } from "./0003-identity.js";
import { m0004SamlReplay } from "./0004-saml-replay.js";
import { m0005AuditBytes } from "./0005-audit-bytes.js";
import { m0006ChangeStamp } from "./0006-change-stamp.js";

/** Every migration, in order. Names sort in the order they apply; never rename or edit an applied one. */
const MIGRATIONS: Record<string, Migration> = {
  "0001-initial": m0001Initial,
  "0002-audit": m0002Audit,
  "0003-identity": m0003Identity,
  "0004-saml-replay": m0004SamlReplay,
  "0005-audit-bytes": m0005AuditBytes,
  "0006-change-stamp": m0006ChangeStamp,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => MIGRATIONS,
};
