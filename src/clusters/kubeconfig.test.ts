import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { defaultKubeconfigPath, KubeconfigError, loadKubeconfig, resolveContext } from "./kubeconfig.js";

const b64 = (s: string) => Buffer.from(s).toString("base64");

const CONFIG = `
apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: c1
  cluster: {server: "https://10.0.0.1:6443/", certificate-authority-data: ${b64("CA-PEM")}, tls-server-name: kube.local}
- name: c2
  cluster: {server: "https://10.0.0.2", certificate-authority: certs/ca.crt, insecure-skip-tls-verify: true}
users:
- name: token-user
  user: {token: s3cret}
- name: cert-user
  user: {client-certificate: certs/client.crt, client-key-data: ${b64("KEY-PEM")}}
- name: exec-user
  user: {exec: {command: aws}}
contexts:
- name: dev
  context: {cluster: c1, user: token-user, namespace: web}
- name: prod
  context: {cluster: c2, user: cert-user}
- name: plugin
  context: {cluster: c1, user: exec-user}
- name: orphan
  context: {cluster: nowhere, user: token-user}
`;

function files(): string {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-kubeconfig-"));
  mkdirSync(join(dir, "certs"));
  writeFileSync(join(dir, "certs", "ca.crt"), "CA-FROM-FILE");
  writeFileSync(join(dir, "certs", "client.crt"), "CERT-FROM-FILE");
  writeFileSync(join(dir, "config"), CONFIG);
  return join(dir, "config");
}

describe("kubeconfig", () => {
  it("resolves the current context with inline data, a token and the context namespace", () => {
    expect(loadKubeconfig(files())).toEqual({
      contextName: "dev",
      server: "https://10.0.0.1:6443",
      caPem: "CA-PEM",
      tlsServerName: "kube.local",
      insecureSkipTLSVerify: false,
      token: "s3cret",
      namespace: "web",
    });
  });

  it("reads file references relative to the kubeconfig's folder", () => {
    expect(loadKubeconfig(files(), "prod")).toEqual({
      contextName: "prod",
      server: "https://10.0.0.2",
      caPem: "CA-FROM-FILE",
      insecureSkipTLSVerify: true,
      clientCertPem: "CERT-FROM-FILE",
      clientKeyPem: "KEY-PEM",
    });
  });

  it.each([
    ["an unknown context", "nope", "UnknownContext"],
    ["a context naming a missing cluster", "orphan", "Incomplete"],
    ["an exec plugin user", "plugin", "Unsupported"],
  ])("refuses %s with a typed error", (_name, context, code) => {
    expect(() => loadKubeconfig(files(), context)).toThrow(expect.objectContaining({ code }) as Error);
  });

  it("refuses malformed YAML, a missing current-context and an unreadable file", () => {
    expect(() => resolveContext("a: [", "k")).toThrow(KubeconfigError);
    expect(() => resolveContext("clusters: []", "k")).toThrow(
      expect.objectContaining({ code: "NoContext" }) as Error,
    );
    expect(() => loadKubeconfig("/no/such/kubeconfig")).toThrow(
      expect.objectContaining({ code: "Unreadable" }) as Error,
    );
  });

  it("finds the kubeconfig kubectl would use", () => {
    expect(defaultKubeconfigPath({ KUBECONFIG: "/a:/b" })).toBe("/a");
    expect(defaultKubeconfigPath({})).toMatch(/\.kube\/config$/);
  });
});
