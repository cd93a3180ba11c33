import { describe, expect, it } from "vitest";
import { parseRequestInfo, requestAttributes } from "../k8s/index.js";
import { classifyImpact, type Impact } from "./impact.js";

const user = { username: "u", groups: [] };
const at = (method: string, uri: string): Impact =>
  classifyImpact(requestAttributes(parseRequestInfo(method, uri), user));

describe("classifyImpact", () => {
  const cases: [string, string, Impact][] = [
    // reads
    ["GET", "/api/v1/namespaces/a/pods", "read"],
    ["GET", "/api/v1/namespaces/a/pods/p", "read"],
    ["GET", "/api/v1/pods?watch=1", "read"],
    ["GET", "/api/v1/namespaces/a/pods/p/log", "read"],
    ["GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles", "read"],
    ["GET", "/api/v1/nodes", "read"],
    ["GET", "/healthz", "read"],
    ["HEAD", "/version", "read"],
    // writes and deletes
    ["POST", "/api/v1/namespaces/a/configmaps", "write"],
    ["PUT", "/apis/apps/v1/namespaces/a/deployments/d/scale", "write"],
    ["PATCH", "/api/v1/namespaces/a/pods/p", "write"],
    ["POST", "/api/v1/namespaces/a/pods/p/eviction", "write"],
    ["POST", "/logs/x", "write"],
    ["DELETE", "/api/v1/namespaces/a/pods/p", "delete"],
    ["DELETE", "/api/v1/namespaces/a/pods", "delete"],
    ["DELETE", "/some/path", "delete"],
    // privileged: shells and tunnels
    ["POST", "/api/v1/namespaces/a/pods/p/exec", "privileged"],
    ["GET", "/api/v1/namespaces/a/pods/p/exec?command=sh", "privileged"],
    ["POST", "/api/v1/namespaces/a/pods/p/attach", "privileged"],
    ["POST", "/api/v1/namespaces/a/pods/p/portforward", "privileged"],
    ["GET", "/api/v1/namespaces/a/services/s/proxy/x", "privileged"],
    ["GET", "/api/v1/nodes/n/proxy/stats", "privileged"],
    ["GET", "/api/v1/proxy/namespaces/a/pods/p", "privileged"],
    // privileged: changes to RBAC, secrets, webhooks, CRDs, nodes
    ["POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/a/rolebindings", "privileged"],
    ["DELETE", "/apis/rbac.authorization.k8s.io/v1/clusterroles/x", "privileged"],
    ["PATCH", "/apis/rbac.authorization.k8s.io/v1/namespaces/a/roles/r", "privileged"],
    ["POST", "/api/v1/namespaces/a/secrets", "privileged"],
    ["DELETE", "/api/v1/namespaces/a/secrets", "privileged"],
    ["POST", "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations", "privileged"],
    ["PUT", "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/m", "privileged"],
    ["POST", "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies", "privileged"],
    ["POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", "privileged"],
    ["PATCH", "/api/v1/nodes/n", "privileged"],
    ["PUT", "/api/v1/nodes/n/status", "privileged"],
    // privileged: reading secrets, minting credentials
    ["GET", "/api/v1/namespaces/a/secrets/s", "privileged"],
    ["GET", "/api/v1/secrets?watch=true", "privileged"],
    ["POST", "/api/v1/namespaces/a/serviceaccounts/sa/token", "privileged"],
    ["PUT", "/apis/certificates.k8s.io/v1/certificatesigningrequests/c/approval", "privileged"],
    // a secrets resource in another group is not a Secret
    ["GET", "/apis/example.com/v1/namespaces/a/secrets", "read"],
  ];
  it.each(cases)("%s %s → %s", (m, uri, impact) => expect(at(m, uri)).toBe(impact));

  it("treats verbs that grant or assume power as privileged", () => {
    for (const verb of ["impersonate", "escalate", "bind", "approve", "sign"]) {
      expect(
        classifyImpact({
          kind: "resource",
          user,
          verb,
          namespace: "",
          apiGroup: "",
          apiVersion: "v1",
          resource: "users",
          subresource: "",
          name: "x",
        }),
      ).toBe("privileged");
    }
  });
});
