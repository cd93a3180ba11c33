import { describe, expect, it } from "vitest";
import { parseRequestInfo, requestAttributes, type UserInfo } from "../k8s/index.js";
import {
  buildEvent,
  closedEarlyResponse,
  formatMicroTime,
  gatewayAnnotations,
  panicResponse,
  type RequestFacts,
} from "./event.js";
import { truncateEvent, withoutManagedFields, eventSize } from "./event-trim.js";
import type { Level, RequestAuditConfig } from "./types.js";

const alice: UserInfo = { username: "alice", uid: "u-1", groups: ["dev", "system:authenticated"] };
const T0 = formatMicroTime(Date.UTC(2024, 4, 1, 10, 0, 0, 123) + 0.456);
const T1 = formatMicroTime(Date.UTC(2024, 4, 1, 10, 0, 1));

function facts(method: string, uri: string, extra: Partial<RequestFacts> = {}): RequestFacts {
  return {
    auditID: "a-1",
    requestURI: uri,
    attributes: requestAttributes(parseRequestInfo(method, uri), alice),
    sourceIPs: ["10.0.0.1"],
    userAgent: "kubectl/v1.31",
    requestReceivedTimestamp: T0,
    ...extra,
  };
}

const cfg = (level: Level, extra: Partial<RequestAuditConfig> = {}): RequestAuditConfig => ({
  level,
  omitStages: [],
  omitManagedFields: false,
  ...extra,
});

const pod = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: {
    name: "web",
    namespace: "ns1",
    uid: "p-1",
    resourceVersion: "7",
    managedFields: [{ manager: "kubectl" }],
  },
  spec: { containers: [] },
};

describe("formatMicroTime", () => {
  it("writes RFC 3339 with six fractional digits in UTC", () => {
    expect(T0).toBe("2024-05-01T10:00:00.123456Z");
    expect(T1).toBe("2024-05-01T10:00:01.000000Z");
  });
});

describe("buildEvent", () => {
  it("writes a ResponseComplete event with kube-apiserver's fields, in its order", () => {
    const e = buildEvent(
      "ResponseComplete",
      cfg("Metadata"),
      facts("GET", "/api/v1/namespaces/ns1/pods/web", {
        annotations: gatewayAnnotations({
          decision: "allow",
          reason: 'RBAC: allowed by RoleBinding "x"',
          cluster: "prod",
          impact: "read",
        }),
      }),
      { code: 200 },
      T1,
    );
    expect(e).toEqual({
      kind: "Event",
      apiVersion: "audit.k8s.io/v1",
      level: "Metadata",
      auditID: "a-1",
      stage: "ResponseComplete",
      requestURI: "/api/v1/namespaces/ns1/pods/web",
      verb: "get",
      user: { username: "alice", uid: "u-1", groups: ["dev", "system:authenticated"] },
      sourceIPs: ["10.0.0.1"],
      userAgent: "kubectl/v1.31",
      objectRef: { resource: "pods", namespace: "ns1", name: "web", apiVersion: "v1" },
      responseStatus: { metadata: {}, code: 200 },
      requestReceivedTimestamp: T0,
      stageTimestamp: T1,
      annotations: {
        "authorization.k8s.io/decision": "allow",
        "authorization.k8s.io/reason": 'RBAC: allowed by RoleBinding "x"',
        "gatehouse.io/cluster": "prod",
        "gatehouse.io/impact": "read",
      },
    });
    expect(Object.keys(e ?? {})).toEqual([
      "kind",
      "apiVersion",
      "level",
      "auditID",
      "stage",
      "requestURI",
      "verb",
      "user",
      "sourceIPs",
      "userAgent",
      "objectRef",
      "responseStatus",
      "requestReceivedTimestamp",
      "stageTimestamp",
      "annotations",
    ]);
  });

  it("records nothing at level None or for an omitted stage", () => {
    expect(
      buildEvent("ResponseComplete", cfg("None"), facts("GET", "/api/v1/pods"), { code: 200 }, T1),
    ).toBeUndefined();
    expect(
      buildEvent(
        "RequestReceived",
        cfg("Metadata", { omitStages: ["RequestReceived"] }),
        facts("GET", "/api/v1/pods"),
        undefined,
        T1,
      ),
    ).toBeUndefined();
  });

  it("stamps RequestReceived with the arrival time and gives it no response or body", () => {
    const e = buildEvent(
      "RequestReceived",
      cfg("RequestResponse"),
      facts("POST", "/api/v1/namespaces/ns1/pods", { requestObject: pod }),
      { code: 201, responseObject: pod },
      T1,
    );
    expect(e?.stageTimestamp).toBe(T0);
    expect(e?.responseStatus).toBeUndefined();
    expect(e?.requestObject).toBeUndefined();
    expect(e?.responseObject).toBeUndefined();
    expect(e?.objectRef).toEqual({ resource: "pods", namespace: "ns1", apiVersion: "v1" });
  });

  const gating: [Level, boolean, boolean][] = [
    ["Metadata", false, false],
    ["Request", true, false],
    ["RequestResponse", true, true],
  ];
  it.each(gating)("at %s keeps requestObject=%s responseObject=%s", (level, hasReq, hasRes) => {
    const e = buildEvent(
      "ResponseComplete",
      cfg(level),
      facts("POST", "/api/v1/namespaces/ns1/pods", { requestObject: pod }),
      { code: 201, responseObject: pod },
      T1,
    );
    expect(e?.requestObject !== undefined).toBe(hasReq);
    expect(e?.responseObject !== undefined).toBe(hasRes);
  });

  it("completes objectRef from the created object's metadata, as LogRequestObject does", () => {
    const e = buildEvent(
      "ResponseComplete",
      cfg("Metadata"),
      facts("POST", "/api/v1/namespaces/ns1/pods", { requestObject: pod }),
      { code: 201 },
      T1,
    );
    expect(e?.objectRef).toEqual({
      resource: "pods",
      namespace: "ns1",
      name: "web",
      uid: "p-1",
      apiVersion: "v1",
      resourceVersion: "7",
    });
  });

  it("does not read a patch body as an object", () => {
    const e = buildEvent(
      "ResponseComplete",
      cfg("Request"),
      facts("PATCH", "/api/v1/namespaces/ns1/pods/web", { requestObject: { metadata: { uid: "x" } } }),
      { code: 200 },
      T1,
    );
    expect(e?.objectRef?.uid).toBeUndefined();
    expect(e?.requestObject).toEqual({ metadata: { uid: "x" } });
  });

  it("strips managedFields from bodies when the policy says so", () => {
    const list = { kind: "PodList", items: [pod, pod] };
    const e = buildEvent(
      "ResponseComplete",
      cfg("RequestResponse", { omitManagedFields: true }),
      facts("PUT", "/api/v1/namespaces/ns1/pods/web", { requestObject: pod }),
      { code: 200, responseObject: list },
      T1,
    );
    expect((e?.requestObject as typeof pod).metadata).not.toHaveProperty("managedFields");
    expect(
      (e?.responseObject as { items: (typeof pod)[] }).items.every((i) => !("managedFields" in i.metadata)),
    ).toBe(true);
    expect(pod.metadata.managedFields).toHaveLength(1); // the input is not mutated
  });

  it("never records bodies for non-resource requests, and gives them no objectRef", () => {
    const e = buildEvent(
      "ResponseComplete",
      cfg("RequestResponse"),
      facts("POST", "/logs/x", { requestObject: { a: 1 } }),
      { code: 200, responseObject: { b: 2 } },
      T1,
    );
    expect(e?.objectRef).toBeUndefined();
    expect(e?.requestObject).toBeUndefined();
    expect(e?.responseObject).toBeUndefined();
    expect(e?.verb).toBe("post");
  });

  it("copies a Status body's bounded fields into responseStatus", () => {
    const e = buildEvent(
      "ResponseComplete",
      cfg("Metadata"),
      facts("GET", "/api/v1/namespaces/ns1/secrets"),
      {
        code: 403,
        status: {
          status: "Failure",
          message: "secrets is forbidden",
          reason: "Forbidden",
          details: { kind: "secrets" },
        },
      },
      T1,
    );
    expect(e?.responseStatus).toEqual({
      metadata: {},
      status: "Failure",
      message: "secrets is forbidden",
      reason: "Forbidden",
      details: { kind: "secrets" },
      code: 403,
    });
  });

  it("records impersonation and truncates long user agents", () => {
    const e = buildEvent(
      "ResponseComplete",
      cfg("Metadata"),
      facts("GET", "/api/v1/pods", {
        impersonatedUser: { username: "bob", groups: [] },
        userAgent: "x".repeat(2000),
      }),
      { code: 200 },
      T1,
    );
    expect(e?.impersonatedUser).toEqual({ username: "bob" });
    expect(e?.userAgent).toBe("x".repeat(1024) + "...TRUNCATED");
  });

  it("has kube-apiserver's panic and closed-early responses", () => {
    const p = buildEvent("Panic", cfg("Metadata"), facts("GET", "/api/v1/pods"), panicResponse("boom"), T1);
    expect(p?.responseStatus).toEqual({
      metadata: {},
      status: "Failure",
      message: "APIServer panic'd: boom",
      reason: "InternalError",
      code: 500,
    });
    const c = buildEvent(
      "ResponseStarted",
      cfg("Metadata"),
      facts("GET", "/api/v1/pods?watch=1"),
      closedEarlyResponse(),
      T1,
    );
    expect(c?.responseStatus).toEqual({
      metadata: {},
      status: "Success",
      message: "Connection closed early",
      code: 200,
    });
    expect(c?.verb).toBe("watch");
  });
});

describe("withoutManagedFields", () => {
  it("strips Table row objects and leaves other values alone", () => {
    const table = { kind: "Table", rows: [{ cells: [], object: pod }] };
    const out = withoutManagedFields(table) as { rows: { object: typeof pod }[] };
    expect(out.rows[0]?.object.metadata).not.toHaveProperty("managedFields");
    expect(withoutManagedFields("text")).toBe("text");
    expect(withoutManagedFields([pod])).toEqual([pod]);
  });
});

describe("truncateEvent", () => {
  const big = (level: Level) =>
    buildEvent(
      "ResponseComplete",
      cfg(level),
      facts("PUT", "/api/v1/namespaces/ns1/configmaps/c", {
        requestObject: { data: { k: "v".repeat(5000) } },
      }),
      { code: 200, responseObject: { data: { k: "v".repeat(5000) } } },
      T1,
    );
  it("keeps an event under the limit unchanged", () => {
    const e = big("RequestResponse");
    expect(truncateEvent(e!, 1_000_000)).toEqual({ kind: "kept", event: e });
  });
  it("drops the bodies and marks the event when it is too large", () => {
    const r = truncateEvent(big("RequestResponse")!, 2000);
    expect(r.kind).toBe("truncated");
    if (r.kind !== "truncated") return;
    expect(r.event.requestObject).toBeUndefined();
    expect(r.event.responseObject).toBeUndefined();
    expect(r.event.annotations?.["audit.k8s.io/truncated"]).toBe("true");
    expect(eventSize(r.event)).toBeLessThanOrEqual(2000);
  });
  it("drops an event that cannot be made small enough, or a Metadata event over the limit", () => {
    expect(truncateEvent(big("RequestResponse")!, 100).kind).toBe("dropped");
    expect(truncateEvent(big("Metadata")!, 100).kind).toBe("dropped");
  });
});
