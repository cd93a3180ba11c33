import { describe, expect, it } from "vitest";
import { filterWatchEvent, jsonAccept } from "./watch-filter.js";

const mine = new Set(["acme"]);
const ns = (name: string, tenant?: string) => ({
  kind: "Namespace",
  apiVersion: "v1",
  metadata: {
    name,
    resourceVersion: "42",
    labels: { "kubernetes.io/metadata.name": name, ...(tenant ? { "gatehouse.io/tenant": tenant } : {}) },
  },
  spec: { finalizers: ["kubernetes"] },
  status: { phase: "Active" },
});
const table = (...rows: ReturnType<typeof ns>[]) => ({
  kind: "Table",
  apiVersion: "meta.k8s.io/v1",
  metadata: { resourceVersion: "42" },
  columnDefinitions: [{ name: "Name", type: "string" }],
  rows: rows.map((o) => ({
    cells: [o.metadata.name, "Active"],
    object: { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: o.metadata },
  })),
});

describe("judging a tenant's namespace watch events", () => {
  it.each(["ADDED", "MODIFIED", "DELETED"])(
    "passes %s of a namespace of the caller's tenant unchanged",
    (type) => {
      const e = { type, object: ns("acme-web", "acme") };
      expect(filterWatchEvent(e, mine)).toEqual({ kind: "pass", event: e });
    },
  );

  it.each([
    ["another tenant's namespace", ns("beta-one", "beta")],
    ["a namespace of no tenant", ns("kube-system")],
  ])("drops %s", (_, object) => {
    expect(filterWatchEvent({ type: "ADDED", object }, mine).kind).toBe("drop");
  });

  it("drops a Table with any row of another tenant, and passes one whose rows are all the caller's", () => {
    expect(filterWatchEvent({ type: "ADDED", object: table(ns("acme-web", "acme")) }, mine).kind).toBe(
      "pass",
    );
    expect(
      filterWatchEvent({ type: "ADDED", object: table(ns("acme-web", "acme"), ns("beta-one", "beta")) }, mine)
        .kind,
    ).toBe("drop");
    expect(filterWatchEvent({ type: "ADDED", object: { ...table(), rows: [] } }, mine).kind).toBe("drop");
    const noObject = { ...table(ns("acme-web", "acme")), rows: [{ cells: ["acme-web", "Active"] }] };
    expect(filterWatchEvent({ type: "ADDED", object: noObject }, mine).kind).toBe("drop");
  });

  it("removes the rows' objects after judging them when the client asked includeObject=None", () => {
    const v = filterWatchEvent({ type: "ADDED", object: table(ns("acme-web", "acme")) }, mine, {
      dropRowObjects: true,
    });
    expect(v.kind).toBe("pass");
    if (v.kind === "pass")
      expect((v.event["object"] as { rows: unknown[] }).rows).toEqual([{ cells: ["acme-web", "Active"] }]);
  });

  it("passes PartialObjectMetadata of the caller's namespaces only", () => {
    const pom = (o: ReturnType<typeof ns>) => ({
      kind: "PartialObjectMetadata",
      apiVersion: "meta.k8s.io/v1",
      metadata: o.metadata,
    });
    expect(filterWatchEvent({ type: "MODIFIED", object: pom(ns("acme-web", "acme")) }, mine).kind).toBe(
      "pass",
    );
    expect(filterWatchEvent({ type: "MODIFIED", object: pom(ns("beta-one", "beta")) }, mine).kind).toBe(
      "drop",
    );
  });

  it("rebuilds a BOOKMARK from its resourceVersion and initial-events-end annotation alone", () => {
    const leaky = {
      type: "BOOKMARK",
      object: {
        ...ns("beta-one", "beta"),
        metadata: {
          name: "beta-one",
          resourceVersion: "77",
          labels: { "gatehouse.io/tenant": "beta" },
          annotations: { "k8s.io/initial-events-end": "true", secret: "x" },
        },
      },
    };
    expect(filterWatchEvent(leaky, mine)).toEqual({
      kind: "pass",
      event: {
        type: "BOOKMARK",
        object: {
          kind: "Namespace",
          apiVersion: "v1",
          metadata: { resourceVersion: "77", annotations: { "k8s.io/initial-events-end": "true" } },
          spec: {},
          status: {},
        },
      },
    });
    const t = filterWatchEvent({ type: "BOOKMARK", object: { ...table(ns("beta-one", "beta")) } }, mine);
    expect(t).toEqual({
      kind: "pass",
      event: {
        type: "BOOKMARK",
        object: {
          kind: "Table",
          apiVersion: "meta.k8s.io/v1",
          metadata: { resourceVersion: "42" },
          columnDefinitions: [],
          rows: [],
        },
      },
    });
    expect(
      filterWatchEvent({ type: "BOOKMARK", object: { kind: "Namespace", metadata: {} } }, mine).kind,
    ).toBe("drop");
  });

  it("keeps an expired resourceVersion's 410 message and replaces any other error's words", () => {
    const gone = {
      type: "ERROR",
      object: {
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message: "too old resource version: 5 (300)",
        reason: "Expired",
        code: 410,
        details: { name: "beta-one" },
      },
    };
    expect(filterWatchEvent(gone, mine)).toEqual({
      kind: "pass",
      event: {
        type: "ERROR",
        object: {
          kind: "Status",
          apiVersion: "v1",
          metadata: {},
          status: "Failure",
          message: "too old resource version: 5 (300)",
          reason: "Expired",
          code: 410,
        },
      },
    });
    const internal = {
      type: "ERROR",
      object: {
        kind: "Status",
        code: 500,
        reason: "InternalError",
        message: "/registry/namespaces/beta-one",
      },
    };
    const v = filterWatchEvent(internal, mine);
    expect(v.kind === "pass" && v.event["object"]).toMatchObject({
      code: 500,
      reason: "InternalError",
      message: "the cluster ended the watch (InternalError)",
    });
  });

  it("drops unknown event types, other kinds and malformed events", () => {
    expect(filterWatchEvent({ type: "SYNC", object: ns("acme-web", "acme") }, mine).kind).toBe("drop");
    expect(filterWatchEvent({ type: "ADDED", object: { kind: "Pod", metadata: {} } }, mine).kind).toBe(
      "drop",
    );
    expect(filterWatchEvent({ type: "ADDED" }, mine).kind).toBe("drop");
    expect(filterWatchEvent("nope", mine).kind).toBe("drop");
  });
});

describe("choosing what to ask the cluster for", () => {
  it.each([
    [
      "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json",
      "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json",
    ],
    ["application/vnd.kubernetes.protobuf, application/json", "application/json"],
    ["*/*", "application/json"],
    ["", "application/json"],
    [undefined, "application/json"],
    ["application/vnd.kubernetes.protobuf", undefined],
    ["application/yaml", undefined],
  ])("Accept %j becomes %j", (accept, want) => {
    expect(jsonAccept(accept)).toBe(want);
  });
});
