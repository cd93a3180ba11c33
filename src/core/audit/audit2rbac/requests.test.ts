import { describe, expect, it } from "vitest";
import type { Event } from "../types.js";
import {
  generatedMeta,
  sanitizeLabel,
  sanitizeName,
  subjectFor,
  DEFAULT_ANNOTATIONS,
  DEFAULT_LABELS,
  DEFAULT_NAME,
} from "./naming.js";
import { eventAttributes, observedRequests } from "./requests.js";

function ev(verb: string, requestURI: string, extra: Partial<Event> = {}): Event {
  return {
    kind: "Event",
    apiVersion: "audit.k8s.io/v1",
    level: "Metadata",
    auditID: `${verb}${requestURI}`,
    stage: "ResponseComplete",
    requestURI,
    verb,
    user: { username: "admin", groups: ["system:masters"] },
    requestReceivedTimestamp: "2024-05-01T10:00:00.000000Z",
    stageTimestamp: "2024-05-01T10:00:00.000000Z",
    ...extra,
  };
}

describe("eventAttributes: what the authorizer saw", () => {
  it("prefers the impersonated user", () => {
    const a = eventAttributes(ev("get", "/api", { impersonatedUser: { username: "bob", groups: ["g"] } }));
    expect(a?.user).toEqual({ username: "bob", groups: ["g"] });
  });

  it("takes no name for a create even when objectRef has one from the body", () => {
    const a = eventAttributes(
      ev("create", "/api/v1/namespaces/a/configmaps", {
        objectRef: { resource: "configmaps", namespace: "a", name: "cm", apiVersion: "v1" },
      }),
    );
    expect(a).toMatchObject({
      kind: "resource",
      verb: "create",
      namespace: "a",
      resource: "configmaps",
      name: "",
    });
  });

  it("keeps the name of a create on a subresource, which is in the URL", () => {
    expect(eventAttributes(ev("create", "/api/v1/namespaces/a/serviceaccounts/sa/token"))).toMatchObject({
      resource: "serviceaccounts",
      subresource: "token",
      name: "sa",
    });
  });

  it("names the object of a list with a metadata.name field selector, as the authorizer does", () => {
    expect(
      eventAttributes(ev("list", "/api/v1/namespaces/a/configmaps?fieldSelector=metadata.name%3Dcm")),
    ).toMatchObject({ verb: "list", name: "cm" });
    expect(
      eventAttributes(
        ev("watch", "/api/v1/namespaces/a/configmaps?watch=true&fieldSelector=metadata.name%3Dcm"),
      ),
    ).toMatchObject({ verb: "watch", name: "cm" });
  });

  it("reads non-resource requests by path without the query", () => {
    expect(eventAttributes(ev("get", "/healthz?verbose=1"))).toEqual({
      kind: "nonResource",
      user: { username: "admin", groups: ["system:masters"] },
      verb: "get",
      path: "/healthz",
    });
  });

  it("falls back to objectRef when the URI is not a resource path", () => {
    const a = eventAttributes(
      ev("get", "/custom/prefix/thing", {
        objectRef: { resource: "things", apiGroup: "example.com", apiVersion: "v1", name: "t" },
      }),
    );
    expect(a).toMatchObject({ kind: "resource", apiGroup: "example.com", resource: "things", name: "t" });
    expect(eventAttributes(ev("get", "/api/v1/namespaces/%zz/pods"))).toBeUndefined();
  });
});

describe("observedRequests", () => {
  const events = [
    ev("list", "/api/v1/namespaces/a/pods", {
      impersonatedUser: { username: "bob" },
      stage: "RequestReceived",
    }),
    ev("list", "/api/v1/namespaces/a/pods", {
      impersonatedUser: { username: "bob" },
      objectRef: { namespace: "a" },
    }),
    ev("list", "/api/v1/namespaces/b/pods", {
      impersonatedUser: { username: "bob" },
      objectRef: { namespace: "b" },
      requestReceivedTimestamp: "2024-05-03T00:00:00Z",
    }),
    ev("list", "/api/v1/nodes", { user: { username: "bob" } }),
    ev("list", "/api/v1/secrets", { user: { username: "alice" } }),
  ];
  it("keeps one request per auditID for the chosen users", () => {
    expect(observedRequests(events, { usernames: ["bob"] }).map((r) => r.event.requestURI)).toEqual([
      "/api/v1/namespaces/a/pods",
      "/api/v1/namespaces/b/pods",
      "/api/v1/nodes",
    ]);
  });
  it("filters by namespace and by time", () => {
    expect(observedRequests(events, { usernames: ["bob"], namespace: "b" })).toHaveLength(1);
    expect(
      observedRequests(events, { usernames: ["bob"], sinceMs: Date.parse("2024-05-02T00:00:00Z") }),
    ).toHaveLength(1);
  });
});

describe("naming", () => {
  it("binds users and service accounts as audit2rbac does", () => {
    expect(subjectFor("alice")).toEqual({
      apiGroup: "rbac.authorization.k8s.io",
      kind: "User",
      name: "alice",
    });
    expect(subjectFor("system:serviceaccount:ns1:sa1")).toEqual({
      kind: "ServiceAccount",
      name: "sa1",
      namespace: "ns1",
    });
  });
  it("sanitises names and labels", () => {
    expect(sanitizeName("Alice@Example.com")).toBe("alice-example-com");
    expect(sanitizeName("system:serviceaccount:ns:sa")).toBe("system:serviceaccount:ns:sa");
    expect(sanitizeLabel("system:serviceaccount:ns1:sa1")).toBe("system-serviceaccount-ns1-sa1");
    expect(sanitizeLabel("x".repeat(62) + "@y")).toBe("x".repeat(62));
  });
  it("fills the default templates", () => {
    const t = { name: DEFAULT_NAME, labels: DEFAULT_LABELS, annotations: DEFAULT_ANNOTATIONS };
    expect(generatedMeta("system:serviceaccount:ns1:sa1", "1.2.3", t)).toEqual({
      name: "audit2rbac:sa1",
      labels: {
        "audit2rbac.liggitt.net/user": "system-serviceaccount-ns1-sa1",
        "audit2rbac.liggitt.net/generated": "true",
      },
      annotations: { "audit2rbac.liggitt.net/version": "1.2.3" },
    });
    expect(generatedMeta("system:serviceaccount:ns1:default", "1", t).name).toBe(
      "audit2rbac:system:serviceaccount:ns1:default",
    );
    expect(
      generatedMeta("bob", "1", { name: "x-${user}", labels: ["team", " "], annotations: ["a=b=c"] }),
    ).toEqual({
      name: "x-bob",
      labels: { team: "" },
      annotations: { a: "b=c" },
    });
  });
});
