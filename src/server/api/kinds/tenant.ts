import { parseTenant } from "../../../core/tenancy/index.js";
import type { KindSpec } from "../kind.js";

/**
 * Tenant: owners, members, clusters, naming rules, maxSpaces, quotas and templates for its spaces
 * (src/core/tenancy, docs/tenancy.md). status (spaces, usage) is Gatehouse's: a client's status is
 * ignored and the stored one kept.
 */
export const tenantKind: KindSpec = {
  kind: "Tenant",
  plural: "tenants",
  singular: "tenant",
  validate(o) {
    const r = parseTenant(o.metadata.name, o.spec);
    return "problems" in r ? r.problems : [];
  },
  async toStored(obj, previous) {
    const { status: _ignored, ...rest } = obj;
    return previous?.status ? { ...rest, status: previous.status } : rest;
  },
};
