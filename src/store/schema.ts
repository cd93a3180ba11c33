import type { Generated } from "kysely";

/**
 * The one schema both dialects share. Portable column types only: text, bigint (milliseconds since
 * the epoch, resource versions), integer (booleans as 0/1). JSON is stored as text.
 */
export interface Database {
  settings: SettingsTable;
  users: UsersTable;
  objects: ObjectsTable;
  sequences: SequencesTable;
  audit_events: AuditEventsTable;
}

export interface SettingsTable {
  key: string;
  value: string;
}

export interface UsersTable {
  name: string;
  uid: string;
  /** argon2id PHC string; null for users that only sign in through an identity provider. */
  password_hash: string | null;
  disabled: number;
  groups: string;
  created_at: number;
  updated_at: number;
}

/** Kubernetes-style gatehouse.io objects, stored whole as JSON, keyed by kind/namespace/name. */
export interface ObjectsTable {
  kind: string;
  namespace: string;
  name: string;
  uid: string;
  resource_version: number;
  body: string;
  created_at: number;
}

export interface SequencesTable {
  name: string;
  value: Generated<number>;
}

/** Stored audit events (see migrations/0002-audit.ts and audit-events.ts). */
export interface AuditEventsTable {
  id: Generated<number>;
  seq: number;
  prev_hash: string;
  hash: string;
  source: string;
  audit_id: string;
  stage: string;
  ts: number;
  cluster: string;
  username: string;
  impersonated_user: string;
  groups: string;
  verb: string;
  api_group: string;
  resource: string;
  namespace: string;
  name: string;
  code: number;
  decision: string;
  impact: string;
  event: string;
  /**
   * Running total of stored event bytes (UTF-8 of `event`) through this event; null for rows stored
   * before 0005-audit-bytes.ts, except the newest of them.
   */
  bytes_end: number | null;
}
