import { describe, expect, it } from "vitest";
import { parseObjects, ParseError } from "../k8s/index.js";
import { parseEvent } from "./event-parse.js";

// The first line of liggitt/audit2rbac's demo log (test/fixtures/audit2rbac-demo.log.jsonl).
const demoLine = String.raw`{"kind":"Event","apiVersion":"audit.k8s.io/v1","metadata":{"creationTimestamp":"2017-09-11T19:55:05Z"},"level":"Metadata","timestamp":"2017-09-11T19:55:05Z","auditID":"033d17af-082d-4b24-aa22-627752e83d71","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/pods","verb":"list","user":{"username":"system:admin","groups":["system:masters","system:authenticated"]},"impersonatedUser":{"username":"bob","groups":["system:authenticated"]},"sourceIPs":["::1"],"objectRef":{"resource":"pods","namespace":"default","apiVersion":"v1"},"responseStatus":{"metadata":{},"status":"Failure","message":"pods is forbidden: User \"bob\" cannot list pods in the namespace \"default\"","reason":"Forbidden","details":{"kind":"pods"},"code":403}}`;

describe("parseEvent", () => {
  it("reads a kube-apiserver event with impersonation", () => {
    const first = parseObjects(demoLine, "demo.log").map(parseEvent)[0];
    expect(first?.impersonatedUser?.username).toBe("bob");
    expect(first?.objectRef).toEqual({ resource: "pods", namespace: "default", apiVersion: "v1" });
    // The demo predates requestReceivedTimestamp; its legacy timestamp stands in.
    expect(first?.requestReceivedTimestamp).toBe("2017-09-11T19:55:05Z");
  });

  it("reads an EventList and YAML", () => {
    const list = parseObjects(
      "apiVersion: audit.k8s.io/v1\nkind: EventList\nitems:\n- level: Metadata\n  auditID: x\n  stage: ResponseComplete\n  requestURI: /api\n  verb: get\n  user: {username: u}\n",
      "list.yaml",
    );
    expect(list.map(parseEvent)[0]).toMatchObject({ kind: "Event", auditID: "x", user: { username: "u" } });
  });

  const bad: [string, RegExp][] = [
    ['{"apiVersion":"v1","kind":"Pod"}', /expected apiVersion audit.k8s.io\/v1, kind Event/],
    ['{"apiVersion":"audit.k8s.io/v1alpha1","kind":"Event"}', /v1alpha1 events are not supported/],
    [
      '{"apiVersion":"audit.k8s.io/v1","kind":"Event","level":"Metadata","stage":"ResponseComplete","auditID":"a","requestURI":"/","verb":"get"}',
      /user is required/,
    ],
    [
      '{"apiVersion":"audit.k8s.io/v1","kind":"Event","level":"Loud","stage":"ResponseComplete","auditID":"a","requestURI":"/","verb":"get","user":{"username":"u"}}',
      /unknown level "Loud"/,
    ],
    [
      '{"apiVersion":"audit.k8s.io/v1","kind":"Event","level":"None","stage":"Later","auditID":"a","requestURI":"/","verb":"get","user":{"username":"u"}}',
      /unknown stage "Later"/,
    ],
    [
      '{"apiVersion":"audit.k8s.io/v1","kind":"Event","level":"None","stage":"Panic","auditID":"a","requestURI":"/","verb":7,"user":{"username":"u"}}',
      /verb must be a string/,
    ],
    [
      '{"apiVersion":"audit.k8s.io/v1","kind":"Event","level":"None","stage":"Panic","auditID":"a","requestURI":"/","verb":"get","user":{"username":"u","groups":"g"}}',
      /user.groups must be a list of strings/,
    ],
  ];
  it.each(bad)("refuses %s", (json, msg) => {
    const [d] = parseObjects(json, "bad.jsonl");
    try {
      parseEvent(d as never);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ParseError);
      expect((e as Error).message).toMatch(/^bad\.jsonl document 1/);
      expect((e as Error).message).toMatch(msg);
    }
  });
  it("reads kube-apiserver's event for a failed authentication, whose user is {}", () => {
    const line =
      '{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a401","stage":"ResponseStarted","requestURI":"/api/v1/pods","verb":"list","user":{},"sourceIPs":["10.0.0.9"],"objectRef":{"resource":"pods","apiVersion":"v1"},"responseStatus":{"metadata":{},"message":"Authentication failed, attempted: bearer","code":401},"requestReceivedTimestamp":"2024-05-01T10:00:00.000000Z","stageTimestamp":"2024-05-01T10:00:00.000100Z"}';
    const e = parseEvent(parseObjects(line, "kube.jsonl")[0] as never);
    expect(e.user).toEqual({});
    expect(e.responseStatus?.code).toBe(401);
    const bad = line.replace('"user":{}', '"user":{"username":7}');
    expect(() => parseEvent(parseObjects(bad, "kube.jsonl")[0] as never)).toThrow(
      /user\.username must be a string/,
    );
  });
});
