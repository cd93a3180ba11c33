import { describe, expect, it } from "vitest";
import {
  checkNewSpace,
  checkSpaceName,
  chooseTenant,
  derivedAccess,
  formatQuantity,
  inSync,
  isMember,
  isOwner,
  parseQuantity,
  parseTenant,
  sameQuantity,
  spaceNamespaceLabels,
  spaceObjects,
  tenantUsage,
  type Space,
  type Tenant,
} from "./index.js";

function tenant(spec: Record<string, unknown>, name = "acme"): Tenant {
  const r = parseTenant(name, {
    owners: [{ kind: "User", name: "alice" }],
    clusters: { names: ["c1"] },
    ...spec,
  });
  if (!("tenant" in r)) throw new Error(r.problems.join("; "));
  return r.tenant;
}

function problems(spec: unknown, name = "acme"): string[] {
  const r = parseTenant(name, spec);
  return "problems" in r ? r.problems : [];
}

describe("quantities", () => {
  it.each([
    ["2", 2000n],
    ["500m", 500n],
    ["1.5", 1500n],
    ["1Gi", 1073741824000n],
    ["1k", 1000000n],
    ["1e3", 1000000n],
    ["100n", 1n],
    [".5", 500n],
  ])("reads %s as %s milli-units", (q, milli) => {
    expect(parseQuantity(q)).toBe(milli);
  });

  it.each(["", "abc", "1.2.3", "5X", "Gi"])("refuses %j", (q) => {
    expect(parseQuantity(q)).toBeUndefined();
  });

  it("formats back in the largest exact binary unit, else plain or milli", () => {
    expect(formatQuantity(parseQuantity("2Gi") as bigint)).toBe("2Gi");
    expect(formatQuantity(3000n)).toBe("3");
    expect(formatQuantity(1500n)).toBe("1500m");
  });

  it("compares quantities by value, other strings as text", () => {
    expect(sameQuantity("1000m", "1")).toBe(true);
    expect(sameQuantity("1024Mi", "1Gi")).toBe(true);
    expect(sameQuantity("1", "2")).toBe(false);
    expect(sameQuantity("TCP", "TCP")).toBe(true);
  });
});

describe("tenant validation", () => {
  it("applies the safe defaults: policies on, restricted, owners admin, members edit, a LimitRange", () => {
    const t = tenant({});
    expect(t.templates).toMatchObject({
      networkPolicies: true,
      podSecurity: "restricted",
      roleBindings: { owners: "admin", members: "edit" },
      objects: [],
    });
    expect(t.templates.limitRange).not.toBe(false);
  });

  it.each([
    [{}, "spec.owners: at least one owner is required"],
    [
      { owners: [{ kind: "Robot", name: "x" }], clusters: { names: ["c"] } },
      "spec.owners[0].kind: must be one of",
    ],
    [{ owners: [{ kind: "User", name: "a" }] }, "spec.clusters: required"],
    [
      { owners: [{ kind: "User", name: "a" }], clusters: {} },
      "spec.clusters: give names, a selector, or both",
    ],
    [{ owners: [{ kind: "User", name: "a" }], clusters: { names: ["c"] }, maxSpaces: -1 }, "spec.maxSpaces"],
    [
      { owners: [{ kind: "User", name: "a" }], clusters: { names: ["c"] }, naming: { prefix: "Acme_" } },
      "spec.naming.prefix",
    ],
    [
      { owners: [{ kind: "User", name: "a" }], clusters: { names: ["c"] }, naming: { pattern: "(" } },
      "spec.naming.pattern",
    ],
    [
      {
        owners: [{ kind: "User", name: "a" }],
        clusters: { names: ["c"] },
        quota: { space: { cpu: "lots" } },
      },
      "spec.quota.space.cpu",
    ],
    [
      {
        owners: [{ kind: "User", name: "a" }],
        clusters: { names: ["c"] },
        quota: { total: { "requests.cpu": "4" } },
      },
      "spec.quota.total.requests.cpu: limit it per space too",
    ],
    [
      {
        owners: [{ kind: "User", name: "a" }],
        clusters: { names: ["c"] },
        templates: { podSecurity: "lax" },
      },
      "spec.templates.podSecurity",
    ],
    [
      {
        owners: [{ kind: "User", name: "a" }],
        clusters: { names: ["c"] },
        templates: { objects: [{ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "x" } }] },
      },
      "spec.templates.objects[0].kind: must be one of",
    ],
    [
      {
        owners: [{ kind: "User", name: "a" }],
        clusters: { names: ["c"] },
        templates: {
          objects: [{ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x", namespace: "y" } }],
        },
      },
      "metadata.namespace: must not be set",
    ],
  ])("reports %j as a problem (%s)", (spec, msg) => {
    expect(problems(spec).join("\n")).toContain(msg);
  });

  it("refuses a tenant name that cannot be a label value", () => {
    expect(problems({ owners: [{ kind: "User", name: "a" }], clusters: { names: ["c"] } }, "a.b")[0]).toMatch(
      /metadata.name/,
    );
  });
});

describe("space names", () => {
  const t = tenant({ naming: { prefix: "acme-", pattern: "acme-[a-z]+" } });
  it.each([
    ["acme-web", undefined],
    ["web", /start with "acme-"/],
    ["acme-web2", /match "acme-\[a-z\]\+"/],
    ["Acme-Web", /RFC 1123 label/],
    ["acme-" + "x".repeat(60), /RFC 1123 label/],
  ])("%s → %s", (name, expected) => {
    const r = checkSpaceName(t, name);
    if (expected === undefined) expect(r).toBeUndefined();
    else expect(r).toMatch(expected);
  });
});

describe("the check run inside the reservation transaction", () => {
  const c1 = { name: "c1", labels: {} };
  const sp = (namespace: string, cluster = "c1", t = "acme"): Space => ({ tenant: t, cluster, namespace });

  it("allows a space within every limit", () => {
    const t = tenant({ maxSpaces: 2, quota: { space: { pods: "10" }, perCluster: { pods: "20" } } });
    expect(checkNewSpace(t, c1, sp("a"), [sp("b")])).toBeUndefined();
  });

  it("refuses a cluster the tenant may not use", () => {
    expect(checkNewSpace(tenant({}), { name: "c2", labels: {} }, sp("a", "c2"), [])?.code).toBe(
      "ClusterNotAllowed",
    );
  });

  it("allows a cluster chosen by label selector", () => {
    const t = tenant({ clusters: { selector: { matchLabels: { env: "dev" } } } });
    expect(checkNewSpace(t, { name: "c9", labels: { env: "dev" } }, sp("a", "c9"), [])).toBeUndefined();
    expect(checkNewSpace(t, { name: "c9", labels: { env: "prod" } }, sp("a", "c9"), [])?.code).toBe(
      "ClusterNotAllowed",
    );
  });

  it("refuses the space that would exceed maxSpaces, counting only this tenant's spaces", () => {
    const t = tenant({ maxSpaces: 1 });
    expect(checkNewSpace(t, c1, sp("a"), [sp("x", "c1", "other")])).toBeUndefined();
    const r = checkNewSpace(t, c1, sp("a"), [sp("b")]);
    expect(r?.code).toBe("MaxSpaces");
    expect(r?.message).toContain("has 1 of at most 1 spaces");
  });

  it("refuses a space whose quota would exceed the per-cluster sum, naming the resource", () => {
    const t = tenant({ quota: { space: { "requests.cpu": "2" }, perCluster: { "requests.cpu": "3" } } });
    // A space on another cluster does not count towards this cluster's sum.
    expect(checkNewSpace(t, c1, sp("a"), [sp("b", "c2")])).toBeUndefined();
    const r = checkNewSpace(t, c1, sp("a"), [sp("b")]);
    expect(r).toEqual({
      code: "QuotaExceeded",
      message: "exceeded tenant acme's quota on cluster c1: requests.cpu: requested 4, limited: 3",
    });
  });

  it("refuses a space that would exceed the total across clusters", () => {
    const t = tenant({
      clusters: { names: ["c1", "c2"] },
      quota: { space: { pods: "10" }, total: { pods: "15" } },
    });
    const r = checkNewSpace(t, c1, sp("a"), [sp("b", "c2")]);
    expect(r?.code).toBe("QuotaExceeded");
    expect(r?.message).toContain("total quota: pods: requested 20, limited: 15");
  });

  it("limits spaces per cluster with the pseudo-resource spaces", () => {
    const t = tenant({ quota: { perCluster: { spaces: "1" } } });
    expect(checkNewSpace(t, c1, sp("a"), [sp("b")])?.message).toContain("spaces: requested 2, limited: 1");
  });

  it("refuses a namespace that is already a space of any tenant on that cluster", () => {
    expect(checkNewSpace(tenant({}), c1, sp("a"), [sp("a", "c1", "other")])?.code).toBe("AlreadyExists");
  });

  it("sums usage per cluster and in total", () => {
    const t = tenant({ quota: { space: { "limits.memory": "1Gi" } } });
    expect(tenantUsage(t, [sp("a"), sp("b"), sp("c", "c2"), sp("d", "c1", "other")])).toEqual({
      spaces: 3,
      perCluster: {
        c1: { spaces: "2", "limits.memory": "2Gi" },
        c2: { spaces: "1", "limits.memory": "1Gi" },
      },
      total: { spaces: "3", "limits.memory": "3Gi" },
    });
  });
});

describe("membership and choosing a tenant", () => {
  const a = tenant(
    {
      owners: [{ kind: "Team", name: "ops" }],
      members: [{ kind: "Group", name: "idp:devs" }],
      naming: { prefix: "a-" },
    },
    "a",
  );
  const b = tenant({ owners: [{ kind: "User", name: "alice" }], naming: { prefix: "b-" } }, "b");

  it("knows owners by team group and members by identity-provider group", () => {
    expect(isOwner({ username: "x", groups: ["gatehouse:team:ops"] }, a)).toBe(true);
    expect(isOwner({ username: "x", groups: ["idp:devs"] }, a)).toBe(false);
    expect(isMember({ username: "x", groups: ["idp:devs"] }, a)).toBe(true);
    expect(isMember({ username: "alice", groups: [] }, a)).toBe(false);
  });

  it("chooses by label, else the only tenant, else the only one whose naming rules fit, else asks", () => {
    expect(chooseTenant([a, b], "x", "b")).toBe(b);
    expect(chooseTenant([a], "anything", undefined)).toBe(a);
    expect(chooseTenant([a, b], "b-web", undefined)).toBe(b);
    const open = tenant({}, "open");
    expect(chooseTenant([a, open], "web", undefined)).toBe(open);
    expect(chooseTenant([a, open], "a-web", undefined)).toBe(a);
    expect(chooseTenant([a, open, tenant({ naming: { prefix: "a-w" } }, "aw")], "a-web", undefined)).toEqual({
      problem: expect.stringContaining("more than one of them accepts this name"),
    });
    expect(chooseTenant([a, b], "web", undefined)).toEqual({
      problem: expect.stringContaining("label the namespace"),
    });
    expect(chooseTenant([a], "x", "b")).toEqual({
      problem: expect.stringContaining("not an owner of tenant"),
    });
  });
});

describe("the objects of a space", () => {
  const s: Space = { tenant: "acme", cluster: "c1", namespace: "acme-web" };

  it("holds deny-all, allow-within-tenant, DNS, quota and limits by default, all labelled managed", () => {
    const objs = spaceObjects(tenant({ quota: { space: { pods: "5" } } }), s);
    expect(objs.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      "NetworkPolicy/gatehouse-default-deny",
      "NetworkPolicy/gatehouse-allow-tenant",
      "NetworkPolicy/gatehouse-allow-dns",
      "ResourceQuota/gatehouse-quota",
      "LimitRange/gatehouse-limits",
    ]);
    for (const o of objs) {
      expect(o.metadata.namespace).toBe("acme-web");
      expect(o.metadata.labels).toEqual({ "gatehouse.io/managed": "tenancy", "gatehouse.io/tenant": "acme" });
    }
    expect(objs[1]?.["spec"]).toMatchObject({
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { "gatehouse.io/tenant": "acme" } } }] }],
    });
  });

  it("leaves out what the templates turn off and adds template objects", () => {
    const t = tenant({
      templates: {
        networkPolicies: false,
        limitRange: false,
        podSecurity: "baseline",
        objects: [
          { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "motd" }, data: { hello: "world" } },
        ],
      },
    });
    expect(spaceObjects(t, s).map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(["ConfigMap/motd"]);
    expect(spaceNamespaceLabels(t)["pod-security.kubernetes.io/enforce"]).toBe("baseline");
  });

  it("sees drift: a rule added to a policy, a changed quota, a lost label; not Kubernetes' canonical forms", () => {
    const [deny, , , quota] = spaceObjects(tenant({ quota: { space: { "requests.cpu": "1" } } }), s);
    if (!deny || !quota) throw new Error("missing objects");
    expect(inSync(deny, { ...deny, status: {} })).toBe(true);
    expect(inSync(deny, { ...deny, spec: { ...(deny["spec"] as object), ingress: [{}] } })).toBe(false);
    expect(inSync(quota, { ...quota, spec: { hard: { "requests.cpu": "1000m" } } })).toBe(true);
    expect(inSync(quota, { ...quota, spec: { hard: { "requests.cpu": "8" } } })).toBe(false);
    expect(inSync(quota, { ...quota, metadata: { ...quota.metadata, labels: {} } })).toBe(false);
  });
});

describe("access derived from tenants", () => {
  it("makes the tenant's clusters visible and binds owners and members in each space only", () => {
    const t = tenant({
      members: [{ kind: "Team", name: "devs" }],
      templates: { roleBindings: { owners: "admin", members: "view" } },
    });
    const d = derivedAccess([t], [{ tenant: "acme", cluster: "c1", namespace: "acme-web" }]);
    expect(d.map((o) => `${o.kind}/${o.name}`)).toEqual([
      "AccessRole/gatehouse-tenant-discovery",
      "AccessBinding/tenant.acme.discovery",
      "AccessBinding/space.acme-web.c1.owners",
      "AccessBinding/space.acme-web.c1.members",
    ]);
    expect(d[2]?.body["spec"]).toEqual({
      subjects: [{ kind: "User", name: "alice" }],
      roleRef: { name: "admin" },
      clusters: { names: ["c1"] },
      namespaces: ["acme-web"],
    });
    expect((d[3]?.body["spec"] as { roleRef: unknown }).roleRef).toEqual({ name: "view" });
  });

  it("binds nothing for spaces whose tenant is gone", () => {
    expect(derivedAccess([], [{ tenant: "gone", cluster: "c1", namespace: "x" }])).toEqual([]);
  });
});
