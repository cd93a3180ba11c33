import { describe, expect, it } from "vitest";
import { parseEvent } from "./event-parse.js";
import {
  GATEHOUSE_EVENT_KINDS,
  gatehouseEventKind,
  renderGatehouseEvent,
  type GatehouseEvent,
  type GatehouseEventContext,
} from "./gatehouse-events.js";

const ctx: GatehouseEventContext = {
  auditID: "g-1",
  actor: { username: "admin@example.com", groups: ["gatehouse:admins"] },
  requestURI: "/apis/gatehouse.io/v1alpha1/teams/platform",
  sourceIPs: ["192.0.2.1"],
  timestamp: "2024-05-01T10:00:00.000000Z",
};

const samples: GatehouseEvent[] = [
  { kind: "login.succeeded", provider: "oidc", sessionId: "s-1" },
  { kind: "login.failed", provider: "ldap", reason: "invalid credentials", attemptedUsername: "eve" },
  { kind: "token.issued", tokenId: "t-1", subject: "alice", expiresAt: "2024-05-02T10:00:00Z" },
  { kind: "token.revoked", tokenId: "t-1", subject: "alice", reason: "logout" },
  { kind: "accesskey.issued", keyId: "k-1", subject: "ci-bot" },
  { kind: "accesskey.revoked", keyId: "k-1", subject: "ci-bot" },
  { kind: "user.created", username: "alice" },
  { kind: "user.updated", username: "alice" },
  { kind: "user.deleted", username: "alice" },
  { kind: "team.created", team: "platform" },
  { kind: "team.updated", team: "platform" },
  { kind: "team.deleted", team: "platform" },
  { kind: "cluster.created", cluster: "prod" },
  { kind: "cluster.updated", cluster: "prod" },
  { kind: "cluster.deleted", cluster: "prod" },
  { kind: "accessbinding.created", binding: "platform-admins" },
  { kind: "accessbinding.updated", binding: "platform-admins" },
  { kind: "accessbinding.deleted", binding: "platform-admins" },
];

describe("Gatehouse's own events", () => {
  it("has a sample for every kind in the closed set", () => {
    expect(new Set(samples.map((s) => s.kind))).toEqual(new Set(GATEHOUSE_EVENT_KINDS));
  });

  it.each(samples)("renders $kind as a valid audit.k8s.io/v1 event that reads back with its kind", (s) => {
    const e = renderGatehouseEvent(s, ctx);
    expect(parseEvent({ object: JSON.parse(JSON.stringify(e)), source: { file: "x", document: 1 } })).toEqual(
      e,
    );
    expect(gatehouseEventKind(e)).toBe(s.kind);
    expect(e.objectRef?.apiGroup).toBe("gatehouse.io");
    expect(e.level).toBe("Metadata");
    expect(e.stage).toBe("ResponseComplete");
  });

  it("records a failed login as an anonymous 401 with provider and reason", () => {
    const { actor: _a, ...anon } = ctx;
    const e = renderGatehouseEvent(samples[1] as GatehouseEvent, anon);
    expect(e.user).toEqual({ username: "system:anonymous", groups: ["system:unauthenticated"] });
    expect(e.responseStatus).toEqual({ metadata: {}, status: "Failure", reason: "Unauthorized", code: 401 });
    expect(e.annotations).toEqual({
      "gatehouse.io/event-kind": "login.failed",
      "gatehouse.io/impact": "read",
      "gatehouse.io/login-provider": "ldap",
      "gatehouse.io/login-reason": "invalid credentials",
      "gatehouse.io/attempted-username": "eve",
    });
  });

  it("maps changes to verbs and marks them privileged", () => {
    const e = renderGatehouseEvent({ kind: "accessbinding.deleted", binding: "b" }, ctx);
    expect([e.verb, e.objectRef, e.annotations?.["gatehouse.io/impact"]]).toEqual([
      "delete",
      { resource: "accessbindings", name: "b", apiGroup: "gatehouse.io", apiVersion: "v1alpha1" },
      "privileged",
    ]);
    expect(renderGatehouseEvent({ kind: "token.issued", tokenId: "t", subject: "s" }, ctx).verb).toBe(
      "create",
    );
    expect(renderGatehouseEvent({ kind: "team.updated", team: "t" }, ctx).verb).toBe("update");
  });

  it("does not mistake a cluster request for a Gatehouse event", () => {
    const e = renderGatehouseEvent(samples[0] as GatehouseEvent, ctx);
    expect(
      gatehouseEventKind({ ...e, annotations: { "gatehouse.io/event-kind": "made.up" } }),
    ).toBeUndefined();
    expect(gatehouseEventKind({ ...e, annotations: {} })).toBeUndefined();
  });
});
