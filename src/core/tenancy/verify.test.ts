import { describe, expect, it } from "vitest";
import type { KubeObject } from "../k8s/index.js";
import { buildCluster, parseModel } from "../netpol/index.js";
import type { RbacObject } from "../rbac/index.js";
import {
  excludedSubject,
  parseTenant,
  spaceNamespaceLabels,
  spaceObjects,
  verifyTenantOnCluster,
} from "./index.js";
import type { Tenant } from "./types.js";

const parsed = parseTenant("acme", {
  owners: [{ kind: "User", name: "alice" }],
  members: [{ kind: "Team", name: "devs" }],
  clusters: { names: ["c1"] },
});
if (!("tenant" in parsed)) throw new Error("bad tenant");
const acme: Tenant = parsed.tenant;

const ns = (name: string, labels: Record<string, string> = {}): KubeObject => ({
  apiVersion: "v1",
  kind: "Namespace",
  metadata: { name, labels },
});
const pod = (
  namespace: string,
  name: string,
  ip: string,
  labels: Record<string, string> = {},
): KubeObject => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { namespace, name, labels },
  spec: { containers: [{ name: "c", ports: [{ containerPort: 8080 }] }] },
  status: { podIP: ip },
});

function world(extra: KubeObject[] = []) {
  const objects: KubeObject[] = [
    ns("acme-a", spaceNamespaceLabels(acme)),
    ns("acme-b", spaceNamespaceLabels(acme)),
    ns("other"),
    ns("kube-system"),
    pod("acme-a", "web", "10.0.0.1"),
    pod("acme-b", "db", "10.0.0.2"),
    pod("other", "spy", "10.0.0.3"),
    pod("kube-system", "coredns", "10.0.0.53", { "k8s-app": "kube-dns" }),
    ...spaceObjects(acme, { tenant: "acme", cluster: "c1", namespace: "acme-a" }),
    ...spaceObjects(acme, { tenant: "acme", cluster: "c1", namespace: "acme-b" }),
    ...extra,
  ];
  return buildCluster(
    parseModel(objects.map((object, i) => ({ object, source: { file: "t", document: i + 1 } }))),
  );
}

const rb = (namespace: string, name: string, subject: Record<string, string>, role: string): RbacObject =>
  ({
    kind: "RoleBinding",
    apiVersion: "rbac.authorization.k8s.io/v1",
    metadata: { namespace, name },
    subjects: [{ apiGroup: "rbac.authorization.k8s.io", ...subject }],
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role },
  }) as unknown as RbacObject;
const editRole: RbacObject = {
  kind: "ClusterRole",
  apiVersion: "rbac.authorization.k8s.io/v1",
  metadata: { name: "edit" },
  rules: [{ apiGroups: [""], resources: ["pods", "secrets"], verbs: ["get", "list", "create", "delete"] }],
};

describe("tenant verify, the pure verdict", () => {
  it("passes on the default templates: only DNS leaves the tenant, and that is expected", () => {
    const v = verifyTenantOnCluster({
      tenant: acme,
      cluster: "c1",
      spaces: ["acme-a", "acme-b"],
      network: world(),
      rbac: [editRole, rb("acme-a", "owners", { kind: "User", name: "alice" }, "edit")],
      quotas: [],
    });
    expect(v.network).toEqual([]);
    expect(v.rbac).toEqual([]);
    expect(v.isolated).toBe(true);
  });

  it("fails after a permissive policy, naming the pods, the port range and the policy", () => {
    const open: KubeObject = {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { namespace: "acme-a", name: "allow-all-in" },
      spec: { podSelector: {}, ingress: [{}] },
    };
    const v = verifyTenantOnCluster({
      tenant: acme,
      cluster: "c1",
      spaces: ["acme-a", "acme-b"],
      network: world([open]),
      rbac: [],
      quotas: [],
    });
    expect(v.isolated).toBe(false);
    const spy = v.network.filter((p) => p.from === "other/spy" && p.to === "acme-a/web");
    expect(spy.length).toBeGreaterThan(0);
    expect(spy.map((p) => p.explanation).join("\n")).toContain("acme-a/allow-all-in");
    expect(v.network.every((p) => p.to.startsWith("acme-a/") || p.from.startsWith("acme-a/"))).toBe(true);
  });

  it("names an outsider's RoleBinding in a space, and ignores the tenant's own people and service accounts", () => {
    const v = verifyTenantOnCluster({
      tenant: acme,
      cluster: "c1",
      spaces: ["acme-a"],
      network: world(),
      rbac: [
        editRole,
        rb("acme-a", "mallory", { kind: "User", name: "mallory" }, "edit"),
        rb("acme-a", "devs", { kind: "Group", name: "gatehouse:team:devs" }, "edit"),
        rb("acme-a", "sa", { kind: "User", name: "system:serviceaccount:acme-a:ci" }, "edit"),
      ],
      quotas: [],
    });
    expect(v.rbac).toHaveLength(2);
    expect(v.rbac[0]).toMatchObject({
      subject: "User mallory",
      namespace: "acme-a",
      resource: "pods",
      verbs: ["get", "list", "create", "delete"],
      via: ["RoleBinding acme-a/mallory"],
    });
    expect(v.isolated).toBe(false);
  });

  it("reports quota headroom per space", () => {
    const v = verifyTenantOnCluster({
      tenant: acme,
      cluster: "c1",
      spaces: ["acme-a"],
      network: world(),
      rbac: [],
      quotas: [
        {
          namespace: "acme-a",
          hard: { pods: "10", "requests.cpu": "2" },
          used: { pods: "3", "requests.cpu": "500m" },
        },
      ],
    });
    expect(v.quota).toEqual([
      {
        namespace: "acme-a",
        resources: [
          { name: "pods", hard: "10", used: "3", free: "7" },
          { name: "requests.cpu", hard: "2", used: "500m", free: "1500m" },
        ],
      },
    ]);
  });

  it.each([
    [{ kind: "Group", name: "system:masters" }, true],
    [{ kind: "User", name: "system:kube-controller-manager" }, true],
    [{ kind: "ServiceAccount", name: "replicaset-controller", namespace: "kube-system" }, true],
    [{ kind: "User", name: "root" }, true],
    [{ kind: "Group", name: "system:authenticated" }, false],
    [{ kind: "User", name: "system:anonymous" }, false],
    [{ kind: "ServiceAccount", name: "default", namespace: "other" }, false],
    [{ kind: "Group", name: "system:serviceaccounts:other" }, false],
    [{ kind: "User", name: "bob" }, false],
  ])("counts %j as excluded: %s", (subject, excluded) => {
    expect(excludedSubject(subject as never, new Set(["User/root"]))).toBe(excluded);
  });
});
