import { describe, expect, it } from "vitest";
import type { RequestAttributes } from "../k8s/attributes.js";
import { LinearRbac, RbacIndex, type Decision, type RbacEngine, type RbacObject } from "./index.js";
import {
  clusterRole,
  clusterRoleBinding,
  groupSubject,
  resourceRequest as res,
  role,
  roleBinding,
  rule,
  saSubject,
  urlRequest as url,
  urlRule,
  userSubject,
  who,
} from "../../../test/rbac/builders.js";

const alice = who("alice", "dev", "system:authenticated");

const podReader = clusterRole("pod-reader", [rule(["get", "list"], [""], ["pods"])]);
const allow = (reason: string): Decision => ({ decision: "allow", reason });
const noOpinion = (reason = ""): Decision => ({ decision: "noOpinion", reason });

interface Case {
  name: string;
  objects: RbacObject[];
  request: RequestAttributes;
  want: Decision;
}

const cases: Case[] = [
  {
    name: "allows a user bound by a ClusterRoleBinding and names the binding as kube-apiserver does",
    objects: [podReader, clusterRoleBinding("read-pods", "pod-reader", [userSubject("alice")])],
    request: res(alice, "get", "pods", { namespace: "web" }),
    want: allow(
      'RBAC: allowed by ClusterRoleBinding "read-pods" of ClusterRole "pod-reader" to User "alice"',
    ),
  },
  {
    name: "allows through a RoleBinding to a Role in the same namespace",
    objects: [
      role("web", "edit", [rule(["create"], [""], ["configmaps"])]),
      roleBinding("web", "devs", { kind: "Role", name: "edit" }, [groupSubject("dev")]),
    ],
    request: res(alice, "create", "configmaps", { namespace: "web" }),
    want: allow('RBAC: allowed by RoleBinding "devs/web" of Role "edit" to Group "dev"'),
  },
  {
    name: "a RoleBinding grants nothing in another namespace",
    objects: [
      role("web", "edit", [rule(["create"], [""], ["configmaps"])]),
      roleBinding("web", "devs", { kind: "Role", name: "edit" }, [groupSubject("dev")]),
    ],
    request: res(alice, "create", "configmaps", { namespace: "db" }),
    want: noOpinion(),
  },
  {
    name: "a RoleBinding to a ClusterRole grants the ClusterRole only in the binding's namespace",
    objects: [
      podReader,
      roleBinding("web", "readers", { kind: "ClusterRole", name: "pod-reader" }, [userSubject("alice")]),
    ],
    request: res(alice, "list", "pods", { namespace: "db" }),
    want: noOpinion(),
  },
  {
    name: "a RoleBinding to a ClusterRole allows inside the binding's namespace",
    objects: [
      podReader,
      roleBinding("web", "readers", { kind: "ClusterRole", name: "pod-reader" }, [userSubject("alice")]),
    ],
    request: res(alice, "list", "pods", { namespace: "web" }),
    want: allow('RBAC: allowed by RoleBinding "readers/web" of ClusterRole "pod-reader" to User "alice"'),
  },
  {
    name: "a RoleBinding never grants a cluster-scoped request",
    objects: [
      podReader,
      roleBinding("web", "readers", { kind: "ClusterRole", name: "pod-reader" }, [userSubject("alice")]),
    ],
    request: res(alice, "list", "pods"),
    want: noOpinion(),
  },
  {
    name: "a Role in another namespace does not resolve for a RoleBinding",
    objects: [
      role("db", "edit", [rule(["*"], ["*"], ["*"])]),
      roleBinding("web", "devs", { kind: "Role", name: "edit" }, [userSubject("alice")]),
    ],
    request: res(alice, "get", "pods", { namespace: "web" }),
    want: noOpinion('RBAC: role.rbac.authorization.k8s.io "edit" not found'),
  },
  {
    name: "grants a non-resource URL through a ClusterRoleBinding",
    objects: [
      clusterRole("health", [urlRule(["get"], ["/healthz"])]),
      clusterRoleBinding("h", "health", [groupSubject("dev")]),
    ],
    request: url(alice, "get", "/healthz"),
    want: allow('RBAC: allowed by ClusterRoleBinding "h" of ClusterRole "health" to Group "dev"'),
  },
  {
    name: "non-resource URLs are never granted by a RoleBinding",
    objects: [
      clusterRole("health", [urlRule(["get"], ["/healthz"])]),
      roleBinding("web", "h", { kind: "ClusterRole", name: "health" }, [groupSubject("dev")]),
    ],
    request: url(alice, "get", "/healthz"),
    want: noOpinion(),
  },
  {
    name: "a non-resource URL rule does not match resource requests",
    objects: [
      clusterRole("all-urls", [urlRule(["*"], ["*"])]),
      clusterRoleBinding("u", "all-urls", [userSubject("alice")]),
    ],
    request: res(alice, "get", "pods", { namespace: "web" }),
    want: noOpinion(),
  },
  {
    name: "a non-resource URL ending in * is a prefix",
    objects: [
      clusterRole("apis", [urlRule(["get"], ["/apis/*"])]),
      clusterRoleBinding("a", "apis", [userSubject("alice")]),
    ],
    request: url(alice, "get", "/apis/apps/v1"),
    want: allow('RBAC: allowed by ClusterRoleBinding "a" of ClusterRole "apis" to User "alice"'),
  },
  {
    name: "a non-resource prefix does not match a shorter path",
    objects: [
      clusterRole("apis", [urlRule(["get"], ["/apis/*"])]),
      clusterRoleBinding("a", "apis", [userSubject("alice")]),
    ],
    request: url(alice, "get", "/apis"),
    want: noOpinion(),
  },
  {
    name: "several trailing stars are one prefix, as Go's TrimRight makes them",
    objects: [
      clusterRole("api", [urlRule(["get"], ["/api**"])]),
      clusterRoleBinding("a", "api", [userSubject("alice")]),
    ],
    request: url(alice, "get", "/apis"),
    want: allow('RBAC: allowed by ClusterRoleBinding "a" of ClusterRole "api" to User "alice"'),
  },
  {
    name: "a non-resource URL without a star matches only exactly",
    objects: [
      clusterRole("h", [urlRule(["get"], ["/healthz"])]),
      clusterRoleBinding("a", "h", [userSubject("alice")]),
    ],
    request: url(alice, "get", "/healthz/ping"),
    want: noOpinion(),
  },
  {
    name: "the verb * matches any verb, including made-up ones",
    objects: [
      clusterRole("any", [rule(["*"], [""], ["pods"])]),
      clusterRoleBinding("a", "any", [userSubject("alice")]),
    ],
    request: res(alice, "impersonate", "pods", { namespace: "x" }),
    want: allow('RBAC: allowed by ClusterRoleBinding "a" of ClusterRole "any" to User "alice"'),
  },
  {
    name: "apiGroups * and resources * match any group and resource",
    objects: [
      clusterRole("admin", [rule(["get"], ["*"], ["*"])]),
      clusterRoleBinding("a", "admin", [userSubject("alice")]),
    ],
    request: res(alice, "get", "deployments", { group: "apps", namespace: "x", subresource: "scale" }),
    want: allow('RBAC: allowed by ClusterRoleBinding "a" of ClusterRole "admin" to User "alice"'),
  },
  {
    name: "the core group is the empty string and does not match apps",
    objects: [podReader, clusterRoleBinding("a", "pod-reader", [userSubject("alice")])],
    request: res(alice, "get", "pods", { group: "apps", namespace: "x" }),
    want: noOpinion(),
  },
  {
    name: "*/scale matches the scale subresource of any resource",
    objects: [
      clusterRole("scaler", [rule(["update"], ["apps"], ["*/scale"])]),
      clusterRoleBinding("s", "scaler", [userSubject("alice")]),
    ],
    request: res(alice, "update", "deployments", { group: "apps", subresource: "scale", namespace: "x" }),
    want: allow('RBAC: allowed by ClusterRoleBinding "s" of ClusterRole "scaler" to User "alice"'),
  },
  {
    name: "*/scale does not match the resource itself",
    objects: [
      clusterRole("scaler", [rule(["update"], ["apps"], ["*/scale"])]),
      clusterRoleBinding("s", "scaler", [userSubject("alice")]),
    ],
    request: res(alice, "update", "deployments", { group: "apps", namespace: "x" }),
    want: noOpinion(),
  },
  {
    name: "pods/log matches only that subresource",
    objects: [
      clusterRole("logs", [rule(["get"], [""], ["pods/log"])]),
      clusterRoleBinding("l", "logs", [userSubject("alice")]),
    ],
    request: res(alice, "get", "pods", { subresource: "exec", namespace: "x" }),
    want: noOpinion(),
  },
  {
    name: "a rule for pods does not cover the pods/log subresource",
    objects: [podReader, clusterRoleBinding("a", "pod-reader", [userSubject("alice")])],
    request: res(alice, "get", "pods", { subresource: "log", namespace: "x" }),
    want: noOpinion(),
  },
  {
    name: "pods/* is not a wildcard in Kubernetes RBAC: it does not grant pods/log",
    objects: [
      clusterRole("p", [rule(["get"], [""], ["pods/*"])]),
      clusterRoleBinding("a", "p", [userSubject("alice")]),
    ],
    request: res(alice, "get", "pods", { subresource: "log", namespace: "x" }),
    want: noOpinion(),
  },
  {
    name: "pods/* matches a subresource literally named *",
    objects: [
      clusterRole("p", [rule(["get"], [""], ["pods/*"])]),
      clusterRoleBinding("a", "p", [userSubject("alice")]),
    ],
    request: res(alice, "get", "pods", { subresource: "*", namespace: "x" }),
    want: allow('RBAC: allowed by ClusterRoleBinding "a" of ClusterRole "p" to User "alice"'),
  },
  {
    name: "resourceNames restrict a rule to those names",
    objects: [
      clusterRole("cm", [rule(["get"], [""], ["configmaps"], ["app-config"])]),
      clusterRoleBinding("a", "cm", [userSubject("alice")]),
    ],
    request: res(alice, "get", "configmaps", { name: "other", namespace: "x" }),
    want: noOpinion(),
  },
  {
    name: "resourceNames allow the named object",
    objects: [
      clusterRole("cm", [rule(["get"], [""], ["configmaps"], ["app-config"])]),
      clusterRoleBinding("a", "cm", [userSubject("alice")]),
    ],
    request: res(alice, "get", "configmaps", { name: "app-config", namespace: "x" }),
    want: allow('RBAC: allowed by ClusterRoleBinding "a" of ClusterRole "cm" to User "alice"'),
  },
  {
    name: "a rule with resourceNames does not allow a request without a name (list)",
    objects: [
      clusterRole("cm", [rule(["list"], [""], ["configmaps"], ["app-config"])]),
      clusterRoleBinding("a", "cm", [userSubject("alice")]),
    ],
    request: res(alice, "list", "configmaps", { namespace: "x" }),
    want: noOpinion(),
  },
  {
    name: "a ServiceAccount subject matches system:serviceaccount:NS:NAME",
    objects: [podReader, clusterRoleBinding("sa", "pod-reader", [saSubject("builder", "ci")])],
    request: res(who("system:serviceaccount:ci:builder"), "get", "pods", { namespace: "x" }),
    want: allow(
      'RBAC: allowed by ClusterRoleBinding "sa" of ClusterRole "pod-reader" to ServiceAccount "builder/ci"',
    ),
  },
  {
    name: "a ServiceAccount subject does not match the same name in another namespace",
    objects: [podReader, clusterRoleBinding("sa", "pod-reader", [saSubject("builder", "ci")])],
    request: res(who("system:serviceaccount:prod:builder"), "get", "pods", { namespace: "x" }),
    want: noOpinion(),
  },
  {
    name: "a ServiceAccount subject without a namespace in a RoleBinding takes the binding's namespace",
    objects: [
      podReader,
      roleBinding("ci", "sa", { kind: "ClusterRole", name: "pod-reader" }, [saSubject("builder")]),
    ],
    request: res(who("system:serviceaccount:ci:builder"), "get", "pods", { namespace: "ci" }),
    want: allow(
      'RBAC: allowed by RoleBinding "sa/ci" of ClusterRole "pod-reader" to ServiceAccount "builder/ci"',
    ),
  },
  {
    name: "a ServiceAccount subject without a namespace in a ClusterRoleBinding matches nobody",
    objects: [podReader, clusterRoleBinding("sa", "pod-reader", [saSubject("builder")])],
    request: res(who("system:serviceaccount::builder"), "get", "pods", { namespace: "ci" }),
    want: noOpinion(),
  },
  {
    name: "the group system:serviceaccounts:NS is an ordinary group name to RBAC",
    objects: [
      podReader,
      clusterRoleBinding("ns-sas", "pod-reader", [groupSubject("system:serviceaccounts:ci")]),
    ],
    request: res(
      who("system:serviceaccount:ci:x", "system:serviceaccounts", "system:serviceaccounts:ci"),
      "get",
      "pods",
      { namespace: "a" },
    ),
    want: allow(
      'RBAC: allowed by ClusterRoleBinding "ns-sas" of ClusterRole "pod-reader" to Group "system:serviceaccounts:ci"',
    ),
  },
  {
    name: "a service account username alone does not carry its groups",
    objects: [
      podReader,
      clusterRoleBinding("all-sas", "pod-reader", [groupSubject("system:serviceaccounts")]),
    ],
    request: res(who("system:serviceaccount:ci:x"), "get", "pods", { namespace: "a" }),
    want: noOpinion(),
  },
  {
    name: "system:unauthenticated is matched like any group",
    objects: [
      clusterRole("h", [urlRule(["get"], ["/healthz"])]),
      clusterRoleBinding("anon", "h", [groupSubject("system:unauthenticated")]),
    ],
    request: url(who("system:anonymous", "system:unauthenticated"), "get", "/healthz"),
    want: allow(
      'RBAC: allowed by ClusterRoleBinding "anon" of ClusterRole "h" to Group "system:unauthenticated"',
    ),
  },
  {
    name: "system:authenticated binds every authenticated user that carries the group",
    objects: [
      podReader,
      clusterRoleBinding("everyone", "pod-reader", [groupSubject("system:authenticated")]),
    ],
    request: res(alice, "get", "pods", { namespace: "a" }),
    want: allow(
      'RBAC: allowed by ClusterRoleBinding "everyone" of ClusterRole "pod-reader" to Group "system:authenticated"',
    ),
  },
  {
    name: "a binding whose role does not exist does not stop another binding from allowing",
    objects: [
      clusterRoleBinding("broken", "missing", [userSubject("alice")]),
      podReader,
      clusterRoleBinding("ok", "pod-reader", [userSubject("alice")]),
    ],
    request: res(alice, "get", "pods", { namespace: "a" }),
    want: allow('RBAC: allowed by ClusterRoleBinding "ok" of ClusterRole "pod-reader" to User "alice"'),
  },
  {
    name: "a binding whose ClusterRole does not exist grants nothing and is named in the reason",
    objects: [clusterRoleBinding("broken", "missing", [userSubject("alice")])],
    request: res(alice, "get", "pods", { namespace: "a" }),
    want: noOpinion('RBAC: clusterrole.rbac.authorization.k8s.io "missing" not found'),
  },
  {
    name: "several missing roles are listed in evaluation order, ClusterRoleBindings first",
    objects: [
      roleBinding("a", "rb", { kind: "Role", name: "gone" }, [userSubject("alice")]),
      clusterRoleBinding("c1", "missing", [userSubject("alice")]),
      clusterRoleBinding("c2", "missing", [groupSubject("dev")]),
    ],
    request: res(alice, "get", "pods", { namespace: "a" }),
    want: noOpinion(
      'RBAC: [clusterrole.rbac.authorization.k8s.io "missing" not found, role.rbac.authorization.k8s.io "gone" not found]',
    ),
  },
  {
    name: "a missing role of a binding that does not name the user is not reported",
    objects: [clusterRoleBinding("broken", "missing", [userSubject("bob")])],
    request: res(alice, "get", "pods", { namespace: "a" }),
    want: noOpinion(),
  },
  {
    name: "ClusterRoleBindings are consulted before RoleBindings",
    objects: [
      podReader,
      roleBinding("a", "first", { kind: "ClusterRole", name: "pod-reader" }, [userSubject("alice")]),
      clusterRoleBinding("second", "pod-reader", [userSubject("alice")]),
    ],
    request: res(alice, "get", "pods", { namespace: "a" }),
    want: allow('RBAC: allowed by ClusterRoleBinding "second" of ClusterRole "pod-reader" to User "alice"'),
  },
  {
    name: "the first allowing binding in order is named when several allow",
    objects: [
      podReader,
      clusterRoleBinding("by-group", "pod-reader", [groupSubject("dev")]),
      clusterRoleBinding("by-user", "pod-reader", [userSubject("alice")]),
    ],
    request: res(alice, "get", "pods", { namespace: "a" }),
    want: allow('RBAC: allowed by ClusterRoleBinding "by-group" of ClusterRole "pod-reader" to Group "dev"'),
  },
  {
    name: "the reason names the first subject of the binding that applies",
    objects: [
      podReader,
      clusterRoleBinding("both", "pod-reader", [
        userSubject("bob"),
        groupSubject("dev"),
        userSubject("alice"),
      ]),
    ],
    request: res(alice, "get", "pods", { namespace: "a" }),
    want: allow('RBAC: allowed by ClusterRoleBinding "both" of ClusterRole "pod-reader" to Group "dev"'),
  },
  {
    name: "a user with no bindings gets no opinion and no reason",
    objects: [podReader, clusterRoleBinding("a", "pod-reader", [userSubject("bob")])],
    request: res(alice, "get", "pods", { namespace: "a" }),
    want: noOpinion(),
  },
  {
    name: "names are quoted as Go's %q quotes them",
    objects: [podReader, clusterRoleBinding("q", "pod-reader", [userSubject('we"ird\n\u00e9\u0007')])],
    request: res(who('we"ird\n\u00e9\u0007'), "get", "pods", { namespace: "a" }),
    want: allow(
      'RBAC: allowed by ClusterRoleBinding "q" of ClusterRole "pod-reader" to User "we\\"ird\\n\u00e9\\a"',
    ),
  },
];

const engines: [string, (objects: RbacObject[]) => RbacEngine][] = [
  ["indexed", (o) => RbacIndex.from(o)],
  ["linear", (o) => LinearRbac.from(o)],
];

describe.each(engines)("RBAC authorization (%s)", (_name, make) => {
  it.each(cases)("$name", ({ objects, request, want }) => {
    expect(make(objects).authorize(request)).toEqual(want);
  });
});

describe.each(engines)("policy changes without a rebuild (%s)", (_name, make) => {
  const req = res(alice, "get", "pods", { namespace: "a" });

  it("a binding added before its role starts granting when the role arrives", () => {
    const e = make([clusterRoleBinding("a", "pod-reader", [userSubject("alice")])]);
    expect(e.authorize(req).decision).toBe("noOpinion");
    e.upsert(podReader);
    expect(e.authorize(req).decision).toBe("allow");
  });

  it("removing the role revokes and re-adding restores", () => {
    const e = make([podReader, clusterRoleBinding("a", "pod-reader", [userSubject("alice")])]);
    expect(e.remove({ kind: "ClusterRole", name: "pod-reader" })).toBe(true);
    expect(e.authorize(req)).toEqual(
      noOpinion('RBAC: clusterrole.rbac.authorization.k8s.io "pod-reader" not found'),
    );
    e.upsert(podReader);
    expect(e.authorize(req).decision).toBe("allow");
  });

  it("removing a binding revokes what it granted and reports whether it existed", () => {
    const e = make([
      podReader,
      roleBinding("a", "rb", { kind: "ClusterRole", name: "pod-reader" }, [userSubject("alice")]),
    ]);
    expect(e.remove({ kind: "RoleBinding", namespace: "a", name: "rb" })).toBe(true);
    expect(e.remove({ kind: "RoleBinding", namespace: "a", name: "rb" })).toBe(false);
    expect(e.authorize(req)).toEqual(noOpinion());
  });

  it("updating a role's rules takes effect for every binding that refers to it", () => {
    const e = make([podReader, clusterRoleBinding("a", "pod-reader", [userSubject("alice")])]);
    e.upsert(clusterRole("pod-reader", [rule(["watch"], [""], ["pods"])]));
    expect(e.authorize(req).decision).toBe("noOpinion");
    expect(e.authorize(res(alice, "watch", "pods", { namespace: "a" })).decision).toBe("allow");
  });

  it("updating a binding replaces its subjects and moves it last in order", () => {
    const e = make([
      podReader,
      clusterRoleBinding("one", "pod-reader", [userSubject("alice")]),
      clusterRoleBinding("two", "pod-reader", [userSubject("alice")]),
    ]);
    e.upsert(clusterRoleBinding("one", "pod-reader", [userSubject("alice"), userSubject("bob")]));
    expect(e.authorize(req).reason).toContain('"two"');
    e.upsert(clusterRoleBinding("two", "pod-reader", [userSubject("bob")]));
    expect(e.authorize(req).reason).toContain('"one"');
  });
});

describe.each(engines)("verbs beyond the index's 29 verb bits (%s)", (_name, make) => {
  it("still matches each verb exactly, and * matches verbs no role names", () => {
    const verbs = Array.from({ length: 40 }, (_, i) => `verb-${i}`);
    const e = make([
      clusterRole("many", [
        rule(
          verbs.filter((_, i) => i % 2 === 0),
          [""],
          ["pods"],
        ),
      ]),
      clusterRole("star", [rule(["*"], [""], ["secrets"])]),
      clusterRoleBinding("m", "many", [userSubject("alice")]),
      clusterRoleBinding("s", "star", [userSubject("alice")]),
    ]);
    verbs.forEach((v, i) =>
      expect(e.authorize(res(alice, v, "pods", { namespace: "x" })).decision).toBe(
        i % 2 === 0 ? "allow" : "noOpinion",
      ),
    );
    expect(e.authorize(res(alice, "never-named", "secrets", { namespace: "x" })).decision).toBe("allow");
    expect(e.authorize(res(alice, "never-named", "pods", { namespace: "x" })).decision).toBe("noOpinion");
  });
});
