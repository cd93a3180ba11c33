import { randomBytes } from "node:crypto";
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { parseDocument, stringify } from "yaml";

/** What the kubeconfig must hold after a login: one context per reachable cluster, one exec user. */
export interface LoginKubeconfig {
  /** Gatehouse's origin. */
  server: string;
  user: string;
  caPem?: string;
  insecureSkipTlsVerify?: boolean;
  clusters: string[];
  /** How kubectl runs `gatehouse token`: the command and the arguments before `token`. */
  exec: { command: string; args: string[] };
}

type Named = { name: string } & Record<string, unknown>;

/** The name of the kubeconfig user entry for a Gatehouse user on a server. */
export function kubeconfigUserName(server: string, user: string): string {
  return `${user}@${new URL(server).host}`;
}

/**
 * Merge a login into a kubeconfig object (pure): clusters and contexts named after each Gatehouse
 * cluster, and a user entry that runs the exec-credential plugin. Entries with other names are
 * kept as they are; `current-context` is set only when there was none. No token is written: kubectl
 * asks `gatehouse token` for the access token and never sees the refresh token.
 */
export function mergeLogin(
  existing: Record<string, unknown>,
  login: LoginKubeconfig,
): Record<string, unknown> {
  const userName = kubeconfigUserName(login.server, login.user);
  const list = (key: string): Named[] =>
    Array.isArray(existing[key]) ? (existing[key] as Named[]).filter((e) => typeof e?.name === "string") : [];
  const upsert = (items: Named[], add: Named[]): Named[] => {
    const names = new Set(add.map((a) => a.name));
    return [...items.filter((i) => !names.has(i.name)), ...add];
  };
  const clusters: Named[] = login.clusters.map((c) => ({
    name: c,
    cluster: {
      server: `${login.server}/k8s/clusters/${encodeURIComponent(c)}`,
      ...(login.caPem ? { "certificate-authority-data": Buffer.from(login.caPem).toString("base64") } : {}),
      ...(login.insecureSkipTlsVerify ? { "insecure-skip-tls-verify": true } : {}),
    },
  }));
  const contexts: Named[] = login.clusters.map((c) => ({ name: c, context: { cluster: c, user: userName } }));
  const user: Named = {
    name: userName,
    user: {
      exec: {
        apiVersion: "client.authentication.k8s.io/v1",
        command: login.exec.command,
        args: [...login.exec.args, "token", "--server", login.server, "--user", login.user],
        interactiveMode: "Never",
        provideClusterInfo: false,
      },
    },
  };
  const current = existing["current-context"];
  return {
    ...existing,
    apiVersion: "v1",
    kind: "Config",
    clusters: upsert(list("clusters"), clusters),
    contexts: upsert(list("contexts"), contexts),
    users: upsert(list("users"), [user]),
    ...(typeof current === "string" && current !== ""
      ? {}
      : login.clusters[0]
        ? { "current-context": login.clusters[0] }
        : {}),
  };
}

/** --kubeconfig, else the first file in $KUBECONFIG, else ~/.kube/config (as kubectl writes). */
export function kubeconfigPath(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  if (flag) return flag;
  const first = (env["KUBECONFIG"] ?? "").split(delimiter).find((p) => p !== "");
  return first ?? join(homedir(), ".kube", "config");
}

export function readKubeconfig(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw e;
  }
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new Error(`${path}: not valid YAML: ${doc.errors[0]?.message ?? ""}`);
  const v: unknown = doc.toJS();
  if (v === null || v === undefined) return {};
  if (typeof v !== "object" || Array.isArray(v)) throw new Error(`${path}: not a kubeconfig`);
  return v as Record<string, unknown>;
}

/** Replace the file atomically, keeping its mode, or 0600 for a new one. */
export function writeKubeconfig(path: string, config: Record<string, unknown>): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  let mode = 0o600;
  try {
    mode = statSync(path).mode & 0o777;
  } catch {
    // new file
  }
  const tmp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  const fd = openSync(tmp, "wx", mode);
  try {
    writeSync(fd, stringify(config, { lineWidth: 0 }));
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}
