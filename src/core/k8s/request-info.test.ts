import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  isLongRunning,
  parseRequestInfo,
  RequestInfoError,
  requestAttributes,
  type RequestInfo,
} from "./request-info.js";
import { isValidLabelSelector, parseFieldSelector } from "./list-options.js";

type Row = [
  method: string,
  url: string,
  verb: string,
  prefix: string,
  group: string,
  version: string,
  namespace: string,
  resource: string,
  subresource: string,
  name: string,
  parts: string[],
];

// Expected values follow kube-apiserver's RequestInfoFactory semantics (requestinfo.go).
const resourceCases: Row[] = [
  // collections and items
  ["GET", "/api/v1/pods", "list", "api", "", "v1", "", "pods", "", "", ["pods"]],
  ["HEAD", "/api/v1/pods", "list", "api", "", "v1", "", "pods", "", "", ["pods"]],
  ["GET", "/api/v1/namespaces/ns1/pods", "list", "api", "", "v1", "ns1", "pods", "", "", ["pods"]],
  [
    "GET",
    "/api/v1/namespaces/ns1/pods/web",
    "get",
    "api",
    "",
    "v1",
    "ns1",
    "pods",
    "",
    "web",
    ["pods", "web"],
  ],
  [
    "HEAD",
    "/api/v1/namespaces/ns1/pods/web",
    "get",
    "api",
    "",
    "v1",
    "ns1",
    "pods",
    "",
    "web",
    ["pods", "web"],
  ],
  ["POST", "/api/v1/namespaces/ns1/pods", "create", "api", "", "v1", "ns1", "pods", "", "", ["pods"]],
  [
    "PUT",
    "/api/v1/namespaces/ns1/pods/web",
    "update",
    "api",
    "",
    "v1",
    "ns1",
    "pods",
    "",
    "web",
    ["pods", "web"],
  ],
  [
    "PATCH",
    "/api/v1/namespaces/ns1/pods/web",
    "patch",
    "api",
    "",
    "v1",
    "ns1",
    "pods",
    "",
    "web",
    ["pods", "web"],
  ],
  [
    "DELETE",
    "/api/v1/namespaces/ns1/pods/web",
    "delete",
    "api",
    "",
    "v1",
    "ns1",
    "pods",
    "",
    "web",
    ["pods", "web"],
  ],
  [
    "DELETE",
    "/api/v1/namespaces/ns1/pods",
    "deletecollection",
    "api",
    "",
    "v1",
    "ns1",
    "pods",
    "",
    "",
    ["pods"],
  ],
  ["DELETE", "/api/v1/nodes", "deletecollection", "api", "", "v1", "", "nodes", "", "", ["nodes"]],
  ["GET", "/api/v1/nodes/n1", "get", "api", "", "v1", "", "nodes", "", "n1", ["nodes", "n1"]],
  // an unknown method keeps the resource but has no verb
  ["OPTIONS", "/api/v1/pods", "", "api", "", "v1", "", "pods", "", "", ["pods"]],
  ["get", "/api/v1/pods", "", "api", "", "v1", "", "pods", "", "", ["pods"]],
  // namespaces: the namespace of a namespace is its own name; status and finalize are subresources
  ["GET", "/api/v1/namespaces", "list", "api", "", "v1", "", "namespaces", "", "", ["namespaces"]],
  [
    "DELETE",
    "/api/v1/namespaces",
    "deletecollection",
    "api",
    "",
    "v1",
    "",
    "namespaces",
    "",
    "",
    ["namespaces"],
  ],
  [
    "GET",
    "/api/v1/namespaces/ns1",
    "get",
    "api",
    "",
    "v1",
    "ns1",
    "namespaces",
    "",
    "ns1",
    ["namespaces", "ns1"],
  ],
  [
    "PATCH",
    "/api/v1/namespaces/ns1",
    "patch",
    "api",
    "",
    "v1",
    "ns1",
    "namespaces",
    "",
    "ns1",
    ["namespaces", "ns1"],
  ],
  [
    "DELETE",
    "/api/v1/namespaces/ns1",
    "delete",
    "api",
    "",
    "v1",
    "ns1",
    "namespaces",
    "",
    "ns1",
    ["namespaces", "ns1"],
  ],
  [
    "PUT",
    "/api/v1/namespaces/ns1/status",
    "update",
    "api",
    "",
    "v1",
    "ns1",
    "namespaces",
    "status",
    "ns1",
    ["namespaces", "ns1", "status"],
  ],
  [
    "PUT",
    "/api/v1/namespaces/ns1/finalize",
    "update",
    "api",
    "",
    "v1",
    "ns1",
    "namespaces",
    "finalize",
    "ns1",
    ["namespaces", "ns1", "finalize"],
  ],
  // "namespaces" nested as a resource name inside a namespace is an ordinary resource
  [
    "GET",
    "/api/v1/namespaces/ns1/namespaces",
    "list",
    "api",
    "",
    "v1",
    "ns1",
    "namespaces",
    "",
    "",
    ["namespaces"],
  ],
  // subresources, and deeper parts that are not interpreted
  [
    "GET",
    "/api/v1/namespaces/ns1/pods/web/status",
    "get",
    "api",
    "",
    "v1",
    "ns1",
    "pods",
    "status",
    "web",
    ["pods", "web", "status"],
  ],
  [
    "GET",
    "/api/v1/namespaces/ns1/pods/web/log",
    "get",
    "api",
    "",
    "v1",
    "ns1",
    "pods",
    "log",
    "web",
    ["pods", "web", "log"],
  ],
  [
    "POST",
    "/api/v1/namespaces/ns1/pods/web/exec",
    "create",
    "api",
    "",
    "v1",
    "ns1",
    "pods",
    "exec",
    "web",
    ["pods", "web", "exec"],
  ],
  [
    "GET",
    "/api/v1/namespaces/ns1/pods/web/exec?command=ls",
    "get",
    "api",
    "",
    "v1",
    "ns1",
    "pods",
    "exec",
    "web",
    ["pods", "web", "exec"],
  ],
  [
    "POST",
    "/api/v1/namespaces/ns1/pods/web/portforward",
    "create",
    "api",
    "",
    "v1",
    "ns1",
    "pods",
    "portforward",
    "web",
    ["pods", "web", "portforward"],
  ],
  [
    "GET",
    "/api/v1/namespaces/ns1/pods/web/proxy/a/b",
    "get",
    "api",
    "",
    "v1",
    "ns1",
    "pods",
    "proxy",
    "web",
    ["pods", "web", "proxy", "a", "b"],
  ],
  [
    "POST",
    "/api/v1/namespaces/ns1/serviceaccounts/sa/token",
    "create",
    "api",
    "",
    "v1",
    "ns1",
    "serviceaccounts",
    "token",
    "sa",
    ["serviceaccounts", "sa", "token"],
  ],
  [
    "PUT",
    "/api/v1/nodes/n1/status",
    "update",
    "api",
    "",
    "v1",
    "",
    "nodes",
    "status",
    "n1",
    ["nodes", "n1", "status"],
  ],
  // deprecated verb-in-path forms
  ["GET", "/api/v1/watch/pods", "watch", "api", "", "v1", "", "pods", "", "", ["pods"]],
  ["GET", "/api/v1/watch/namespaces/ns1/pods", "watch", "api", "", "v1", "ns1", "pods", "", "", ["pods"]],
  [
    "GET",
    "/api/v1/watch/namespaces/ns1/pods/web",
    "watch",
    "api",
    "",
    "v1",
    "ns1",
    "pods",
    "",
    "web",
    ["pods", "web"],
  ],
  ["GET", "/api/v1/watch/namespaces", "watch", "api", "", "v1", "", "namespaces", "", "", ["namespaces"]],
  [
    "GET",
    "/api/v1/proxy/namespaces/ns1/pods/web",
    "proxy",
    "api",
    "",
    "v1",
    "ns1",
    "pods",
    "",
    "web",
    ["pods", "web"],
  ],
  [
    "GET",
    "/api/v1/proxy/namespaces/ns1/pods/web/not/a/subresource",
    "proxy",
    "api",
    "",
    "v1",
    "ns1",
    "pods",
    "",
    "web",
    ["pods", "web", "not", "a", "subresource"],
  ],
  [
    "POST",
    "/api/v1/proxy/nodes/n1/stats",
    "proxy",
    "api",
    "",
    "v1",
    "",
    "nodes",
    "",
    "n1",
    ["nodes", "n1", "stats"],
  ],
  // watch via the query, with Go's boolean rules
  ["GET", "/api/v1/pods?watch=true", "watch", "api", "", "v1", "", "pods", "", "", ["pods"]],
  ["GET", "/api/v1/pods?watch=1", "watch", "api", "", "v1", "", "pods", "", "", ["pods"]],
  ["GET", "/api/v1/pods?watch=", "watch", "api", "", "v1", "", "pods", "", "", ["pods"]],
  ["GET", "/api/v1/pods?watch=yes", "watch", "api", "", "v1", "", "pods", "", "", ["pods"]],
  ["GET", "/api/v1/pods?watch", "watch", "api", "", "v1", "", "pods", "", "", ["pods"]],
  ["GET", "/api/v1/pods?watch=false", "list", "api", "", "v1", "", "pods", "", "", ["pods"]],
  ["GET", "/api/v1/pods?watch=FALSE", "list", "api", "", "v1", "", "pods", "", "", ["pods"]],
  ["GET", "/api/v1/pods?watch=0", "list", "api", "", "v1", "", "pods", "", "", ["pods"]],
  ["GET", "/api/v1/pods?watch=0&watch=1", "list", "api", "", "v1", "", "pods", "", "", ["pods"]],
  [
    "GET",
    "/api/v1/namespaces/ns1/pods/web?watch=true",
    "get",
    "api",
    "",
    "v1",
    "ns1",
    "pods",
    "",
    "web",
    ["pods", "web"],
  ],
  // groups and versions
  [
    "GET",
    "/apis/apps/v1/namespaces/ns1/deployments",
    "list",
    "apis",
    "apps",
    "v1",
    "ns1",
    "deployments",
    "",
    "",
    ["deployments"],
  ],
  [
    "PUT",
    "/apis/apps/v1/namespaces/ns1/deployments/d/scale",
    "update",
    "apis",
    "apps",
    "v1",
    "ns1",
    "deployments",
    "scale",
    "d",
    ["deployments", "d", "scale"],
  ],
  [
    "POST",
    "/apis/extensions/v1beta3/namespaces/ns1/pods",
    "create",
    "apis",
    "extensions",
    "v1beta3",
    "ns1",
    "pods",
    "",
    "",
    ["pods"],
  ],
  [
    "DELETE",
    "/apis/extensions/v1/namespaces/ns1/pods",
    "deletecollection",
    "apis",
    "extensions",
    "v1",
    "ns1",
    "pods",
    "",
    "",
    ["pods"],
  ],
  [
    "GET",
    "/apis/rbac.authorization.k8s.io/v1/clusterroles/admin",
    "get",
    "apis",
    "rbac.authorization.k8s.io",
    "v1",
    "",
    "clusterroles",
    "",
    "admin",
    ["clusterroles", "admin"],
  ],
  [
    "GET",
    "/apis/batch/v1/watch/namespaces/ns1/jobs",
    "watch",
    "apis",
    "batch",
    "v1",
    "ns1",
    "jobs",
    "",
    "",
    ["jobs"],
  ],
  // odd paths: trailing and doubled slashes, percent-encoding (decoded before splitting, as Go does)
  ["GET", "/api/v1/pods/", "list", "api", "", "v1", "", "pods", "", "", ["pods"]],
  ["GET", "//api/v1/pods//", "list", "api", "", "v1", "", "pods", "", "", ["pods"]],
  [
    "GET",
    "/api/v1/namespaces/ns1/pods/a%2Fb",
    "get",
    "api",
    "",
    "v1",
    "ns1",
    "pods",
    "b",
    "a",
    ["pods", "a", "b"],
  ],
  [
    "GET",
    "/api/v1/namespaces/ns1/configmaps/caf%C3%A9",
    "get",
    "api",
    "",
    "v1",
    "ns1",
    "configmaps",
    "",
    "café",
    ["configmaps", "café"],
  ],
  [
    "GET",
    "/api/v1/namespaces/ns1/configmaps/a+b",
    "get",
    "api",
    "",
    "v1",
    "ns1",
    "configmaps",
    "",
    "a+b",
    ["configmaps", "a+b"],
  ],
];

describe("parseRequestInfo on resource requests", () => {
  it.each(resourceCases)("%s %s", (method, url, verb, prefix, group, version, ns, res, sub, name, parts) => {
    const info = parseRequestInfo(method, url);
    expect(info.isResourceRequest).toBe(true);
    expect({
      verb: info.verb,
      prefix: info.apiPrefix,
      group: info.apiGroup,
      version: info.apiVersion,
      ns: info.namespace,
      res: info.resource,
      sub: info.subresource,
      name: info.name,
      parts: info.parts,
    }).toEqual({ verb, prefix, group, version, ns, res, sub, name, parts });
  });
});

describe("parseRequestInfo on non-resource requests", () => {
  const nonResource: [string, string, string][] = [
    ["GET", "/", "/"],
    ["GET", "", ""],
    ["GET", "/api", "/api"],
    ["GET", "/api/v1", "/api/v1"],
    ["GET", "/api/v1/", "/api/v1/"],
    ["GET", "/apis", "/apis"],
    ["GET", "/apis/apps", "/apis/apps"],
    ["GET", "/apis/apps/v1", "/apis/apps/v1"],
    ["GET", "/apis/apps/v1/", "/apis/apps/v1/"],
    ["GET", "/apis/v1/pods", "/apis/v1/pods"], // a group-less path under /apis is too short
    ["GET", "/healthz", "/healthz"],
    ["GET", "/healthz/etcd?verbose", "/healthz/etcd"],
    ["POST", "/not-api/v1/pods", "/not-api/v1/pods"],
    ["HEAD", "/version", "/version"],
    ["PUT", "/metrics", "/metrics"],
    ["GET", "/openapi/v3/apis/apps/v1", "/openapi/v3/apis/apps/v1"],
  ];
  it.each(nonResource)(
    "%s %s is a non-resource request with the lower-cased method as verb",
    (m, url, path) => {
      const info = parseRequestInfo(m, url);
      expect(info.isResourceRequest).toBe(false);
      expect(info.verb).toBe(m.toLowerCase());
      expect(info.path).toBe(path);
      expect(info.resource).toBe("");
      expect(info.apiGroup).toBe("");
    },
  );
  it("a group path with a version and a resource is a resource request even with odd names", () => {
    expect(parseRequestInfo("GET", "/apis/group/version/resource/name/subresource").isResourceRequest).toBe(
      true,
    );
    expect(parseRequestInfo("GET", "/api/version/resource").isResourceRequest).toBe(true);
  });
});

describe("field selectors name the object of a list or watch", () => {
  const cases: [string, string, string, string][] = [
    ["GET", "/apis/g/v/things", "list", ""],
    ["GET", "/apis/g/v/things?fieldSelector=metadata.name=one", "list", "one"],
    ["GET", "/apis/g/v/things?fieldSelector=metadata.name%3D%3Done", "list", "one"],
    ["GET", "/apis/g/v/things?watch=true&fieldSelector=metadata.name=one", "watch", "one"],
    ["GET", "/apis/g/v/things?fieldSelector=metadata.name!=one", "list", ""],
    ["GET", "/apis/g/v/things?fieldSelector=foo=bar", "list", ""],
    ["GET", "/apis/g/v/things?fieldSelector=status.phase=Running,metadata.name=one", "list", "one"],
    // terms are sorted before the first metadata.name term is taken
    ["GET", "/apis/g/v/things?fieldSelector=metadata.name=b,metadata.name=a", "list", "a"],
    // only the first fieldSelector parameter counts
    [
      "GET",
      "/apis/g/v/things?fieldSelector=metadata.name=foo&fieldSelector=metadata.name=bar",
      "list",
      "foo",
    ],
    // a selector that does not parse drops the name, but watch is still honoured
    ["GET", "/apis/g/v/things?fieldSelector=metadata.name=one,foo", "list", ""],
    ["GET", "/apis/g/v/things?fieldSelector=metadata.name=one,foo&watch=true", "watch", ""],
    ["GET", "/apis/g/v/things?fieldSelector=metadata.name=one,foo&watch=false", "list", ""],
    // any other list option that fails to decode drops the name too
    ["GET", "/apis/g/v/things?fieldSelector=metadata.name=one&limit=ten", "list", ""],
    ["GET", "/apis/g/v/things?fieldSelector=metadata.name=one&limit=", "list", ""],
    ["GET", "/apis/g/v/things?fieldSelector=metadata.name=one&timeoutSeconds=1.5&watch=1", "watch", ""],
    ["GET", "/apis/g/v/things?fieldSelector=metadata.name=one&labelSelector=a%20in%20()", "list", ""],
    [
      "GET",
      "/apis/g/v/things?fieldSelector=metadata.name=one&labelSelector=app%3Dweb&limit=500",
      "list",
      "one",
    ],
    // escaped values are unescaped; names that are not valid path segments are ignored
    ["GET", "/apis/g/v/things?fieldSelector=metadata.name=a%5C%2Cb", "list", "a,b"],
    ["GET", "/apis/g/v/things?fieldSelector=metadata.name=a%2Fb", "list", ""],
    ["GET", "/apis/g/v/things?fieldSelector=metadata.name=..", "list", ""],
    ["GET", "/apis/g/v/things?fieldSelector=metadata.name=a%25b", "list", ""],
    // a named fieldSelector on delete does not make it a single delete
    ["DELETE", "/apis/g/v/things?fieldSelector=metadata.name=one", "deletecollection", ""],
    // pairs with semicolons are dropped, as Go's ParseQuery does
    ["GET", "/apis/g/v/things?fieldSelector=metadata.name=one;x", "list", ""],
  ];
  it.each(cases)("%s %s → %s name=%j", (method, url, verb, name) => {
    const info = parseRequestInfo(method, url);
    expect(info.verb).toBe(verb);
    expect(info.name).toBe(name);
  });
});

describe("raw selectors are kept for list, watch and deletecollection only", () => {
  const cases: [string, string, string, string, string][] = [
    ["GET", "/apis/g/v/r?fieldSelector=foo=bar&labelSelector=baz=qux", "list", "foo=bar", "baz=qux"],
    [
      "DELETE",
      "/apis/g/v/r?fieldSelector=foo=bar&labelSelector=baz=qux",
      "deletecollection",
      "foo=bar",
      "baz=qux",
    ],
    ["GET", "/apis/g/v/r?fieldSelector=metadata.name=one,foo", "list", "metadata.name=one,foo", ""],
    ["GET", "/apis/g/v/r?labelSelector=a=1&labelSelector=a=2", "list", "", "a=1"],
    ["GET", "/apis/g/v/r/name?fieldSelector=foo=bar&labelSelector=a=b", "get", "", ""],
    ["GET", "/apis/g/v/watch/r?fieldSelector=metadata.name=foo&labelSelector=a=b", "watch", "", ""],
    ["GET", "/apis/g/v/watch/r/name?fieldSelector=metadata.name=foo", "watch", "", ""],
  ];
  it.each(cases)("%s %s", (method, url, verb, fs, ls) => {
    const info = parseRequestInfo(method, url);
    expect([info.verb, info.fieldSelector, info.labelSelector]).toEqual([verb, fs, ls]);
  });
});

describe("requests kube-apiserver refuses", () => {
  it("a special verb with nothing after it is an error", () => {
    for (const url of ["/api/v1/watch", "/apis/apps/v1/proxy"]) {
      expect(() => parseRequestInfo("GET", url)).toThrowError(RequestInfoError);
      try {
        parseRequestInfo("GET", url);
      } catch (e) {
        expect((e as RequestInfoError).code).toBe("MissingResource");
      }
    }
  });
  it("a malformed percent escape in the path is an error", () => {
    try {
      parseRequestInfo("GET", "/api/v1/namespaces/%zz/pods");
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(RequestInfoError);
      expect((e as RequestInfoError).code).toBe("InvalidPath");
    }
  });
  it("a malformed escape in the query only drops that pair", () => {
    expect(parseRequestInfo("GET", "/api/v1/pods?watch=%zz").verb).toBe("list");
  });
});

describe("requestAttributes", () => {
  const user = { username: "alice", groups: ["dev"] };
  it("carries every resource field to the authorizer", () => {
    expect(
      requestAttributes(parseRequestInfo("GET", "/apis/apps/v1/namespaces/a/deployments/d/scale"), user),
    ).toEqual({
      kind: "resource",
      user,
      verb: "get",
      namespace: "a",
      apiGroup: "apps",
      apiVersion: "v1",
      resource: "deployments",
      subresource: "scale",
      name: "d",
    });
  });
  it("uses the decoded path without the query for non-resource requests", () => {
    expect(requestAttributes(parseRequestInfo("GET", "/healthz/ping?verbose=1"), user)).toEqual({
      kind: "nonResource",
      user,
      verb: "get",
      path: "/healthz/ping",
    });
  });
});

describe("isLongRunning", () => {
  const cases: [string, string, boolean][] = [
    ["GET", "/api/v1/pods?watch=1", true],
    ["GET", "/api/v1/watch/pods", true],
    ["GET", "/api/v1/proxy/nodes/n1/x", true],
    ["POST", "/api/v1/namespaces/a/pods/p/exec", true],
    ["GET", "/api/v1/namespaces/a/pods/p/attach", true],
    ["POST", "/api/v1/namespaces/a/pods/p/portforward", true],
    ["GET", "/api/v1/namespaces/a/pods/p/log", true],
    ["GET", "/api/v1/namespaces/a/services/s/proxy/x", true],
    ["GET", "/api/v1/pods", false],
    ["GET", "/api/v1/namespaces/a/pods/p/status", false],
    ["GET", "/debug/pprof/profile?seconds=5", true],
    ["GET", "/debug/pprof/heap", true],
    ["GET", "/debug/pprofile", false],
    ["GET", "/healthz", false],
  ];
  it.each(cases)("%s %s → %s", (m, url, expected) => {
    expect(isLongRunning(parseRequestInfo(m, url))).toBe(expected);
  });
});

describe("field and label selector syntax", () => {
  it("parses escaped field selector values and rejects bare separators", () => {
    expect(parseFieldSelector("a=b\\=c")).toEqual([{ field: "a", op: "=", value: "b=c" }]);
    expect(parseFieldSelector("a=b=c")).toBeUndefined();
    expect(parseFieldSelector("a")).toBeUndefined();
    expect(parseFieldSelector("a=b\\")).toBeUndefined();
    expect(parseFieldSelector("a=b\\x")).toBeUndefined();
    expect(parseFieldSelector("")).toEqual([]);
  });
  const labels: [string, boolean][] = [
    ["", true],
    ["app=web", true],
    ["app==web,tier!=db", true],
    ["app in (web, api),!legacy,team", true],
    ["example.com/app notin (x)", true],
    ["replicas>3", true],
    ["app=", true],
    ["app in ()", false],
    ["replicas>three", false],
    ["app=we$b", false],
    ["-bad=x", false],
    ["app=web,", false],
    ["app web", false],
    ["Example.com/app=x", false],
  ];
  it.each(labels)("label selector %j valid=%s", (s, ok) => {
    expect(isValidLabelSelector(s)).toBe(ok);
  });
});

describe("properties", () => {
  const seg = fc.stringMatching(/^[a-z0-9][a-z0-9.-]{0,10}$/).filter((s) => s !== "watch" && s !== "proxy");
  it("any namespaced item path round-trips its namespace, resource and name", () => {
    fc.assert(
      fc.property(
        seg,
        seg.filter((s) => s !== "namespaces"),
        seg,
        (ns, res, name) => {
          const info: RequestInfo = parseRequestInfo("GET", `/api/v1/namespaces/${ns}/${res}/${name}`);
          expect([info.namespace, info.resource, info.name, info.verb]).toEqual([ns, res, name, "get"]);
        },
      ),
    );
  });
  it("never throws for paths without percent signs or bare special verbs", () => {
    fc.assert(
      fc.property(
        fc.array(seg, { maxLength: 8 }),
        fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"),
        (parts, m) => {
          const info = parseRequestInfo(m, "/" + parts.join("/"));
          expect(typeof info.verb).toBe("string");
        },
      ),
    );
  });
});
