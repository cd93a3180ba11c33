export { Store, describe as describeLocation, type StoreOptions } from "./store.js";
export { parseDatabaseUrl, redactUrl, type DatabaseLocation } from "./dialect.js";
export { StoreError, type StoreErrorCode } from "./errors.js";
export type { UserRecord, Page } from "./users.js";
export type { StoredObject } from "./objects.js";
export type {
  AuditAppend,
  AuditFilter,
  AuditSource,
  CommittedAuditEvent,
  StoredAuditEvent,
  StoredAuditLink,
} from "./audit-events.js";
