import type { StoredObject } from "../../store/index.js";

/** An object of the gatehouse.io API as clients send and receive it. */
export interface ApiObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    uid?: string;
    resourceVersion?: string;
    creationTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [k: string]: unknown;
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  [k: string]: unknown;
}

/**
 * What the generic REST handler needs to know about one kind stored in the objects table. Kinds are
 * cluster-scoped: Gatehouse's own namespaces would only confuse them with the clusters' namespaces.
 */
export interface KindSpec {
  kind: string;
  plural: string;
  singular: string;
  shortNames?: string[];
  /** Every problem with the spec, as "spec.field: what is wrong"; empty when valid. */
  validate(obj: ApiObject): string[];
  /** Turn a validated object into what is stored (e.g. encrypt secret fields). */
  toStored?(obj: ApiObject, previous: ApiObject | undefined): Promise<ApiObject>;
  /** Turn a stored object into what is served (e.g. drop encrypted fields). */
  present?(obj: ApiObject): ApiObject;
}

/** The served form of a stored row: metadata the server owns is filled from the row. */
export function fromStored(row: StoredObject): ApiObject {
  const body = row.body as unknown as ApiObject;
  return {
    ...body,
    metadata: {
      ...body.metadata,
      name: row.name,
      uid: row.uid,
      resourceVersion: String(row.resourceVersion),
      creationTimestamp: new Date(row.createdAt).toISOString(),
    },
  };
}
