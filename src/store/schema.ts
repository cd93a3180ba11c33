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
